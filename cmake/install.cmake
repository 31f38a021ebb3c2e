# What `cmake --install` (and so the Debian package) puts where. Included at the end of the
# root CMakeLists.txt, after every target exists. With CMAKE_INSTALL_PREFIX=/usr:
#   /usr/sbin/nodebridged, /usr/bin/nodebridge, /usr/bin/nodebridge-sim
#   /etc/nodebridge/nodebridge.yaml, /etc/nodebridge/conf.d/
#   <systemd unit dir>/nodebridge.service
#   /usr/share/doc/nodebridge/{*.md,examples/}, /usr/share/man/man{1,5,8}/
#   /usr/share/nodebridge/models/*.yaml (the library of device models, docs/models.md)
#   /usr/share/nodebridge/http/ (the status page's files, docs/http.md)

include(GNUInstallDirs)

if(TARGET nodebridged)
    install(TARGETS nodebridged RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
endif()
if(TARGET nodebridge)
    install(TARGETS nodebridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET nodebridge-sim)
    install(TARGETS nodebridge-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The config lives in /etc even with prefix /usr (GNUInstallDirs' FULL_SYSCONFDIR rule).
set(NODEBRIDGE_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/nodebridge)
install(FILES config/nodebridge.yaml DESTINATION ${NODEBRIDGE_CONFDIR})
install(DIRECTORY DESTINATION ${NODEBRIDGE_CONFDIR}/conf.d)
install(DIRECTORY config/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.yaml")

# The shipped library of device models, where default_model_dirs() looks first
# (kModelLibraryDir); package-owned, the site's own go to /etc/nodebridge/models.
install(DIRECTORY models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/nodebridge/models
        FILES_MATCHING PATTERN "*.yaml")

# The HTTP endpoint's status page (docs/http.md), where http.static_dir looks by default:
# data, not code.
install(DIRECTORY src/http/static/ DESTINATION ${CMAKE_INSTALL_DATADIR}/nodebridge/http)
# The Grafana dashboard for /metrics (docs/http.md).
install(FILES config/examples/grafana-dashboard.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Where systemd looks for system units: systemd.pc says (/lib/systemd/system on Debian 12).
set(NODEBRIDGE_SYSTEMD_UNITDIR "" CACHE PATH "Directory for the systemd unit (default: from systemd.pc)")
if(NOT NODEBRIDGE_SYSTEMD_UNITDIR)
    pkg_get_variable(NODEBRIDGE_SYSTEMD_UNITDIR systemd systemdsystemunitdir)
endif()
if(NOT NODEBRIDGE_SYSTEMD_UNITDIR)
    set(NODEBRIDGE_SYSTEMD_UNITDIR /lib/systemd/system)
endif()
install(FILES systemd/nodebridge.service DESTINATION ${NODEBRIDGE_SYSTEMD_UNITDIR})

install(FILES docs/man/nodebridge.1 docs/man/nodebridge-sim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/nodebridge.yaml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES docs/man/nodebridged.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# The user's reference (configuration keys, topics and payloads), as the shipped config
# points to it.
file(GLOB NODEBRIDGE_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${NODEBRIDGE_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
