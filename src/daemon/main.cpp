// nodebridged: loads the configuration, then runs the daemon until SIGTERM.

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "daemon.hpp"
#include "edge_node.hpp"
#include "nodebridge/config.hpp"
#include "nodebridge/homeassistant.hpp"
#include "nodebridge/version.hpp"
#include "options.hpp"
#include "publish/spool.hpp"
#include "sources/modbus/bus_load.hpp"
#include "systemd/journal_logger.hpp"

namespace {

// A Modbus TCP endpoint is a descriptor, and a hosts: entry may stand for thousands. The soft
// limit (1,024 under systemd and most shells) is raised to the hard one (524,288 under
// systemd): nothing here uses select(), whose FD_SETSIZE the soft limit protects.
void raise_descriptor_limit(nodebridge::Logger& log) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        log.log(nodebridge::LogLevel::warning,
                std::string("cannot raise the open-file limit: ") + std::strerror(errno));
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace nodebridge;

    // Before any thread exists, so every thread inherits the mask.
    const sigset_t signals = daemon_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const ParsedOptions parsed = parse_options(std::vector<std::string>(argv, argv + argc));
    if (!parsed.options) {
        std::cerr << "nodebridged: " << parsed.error << "\n" << usage();
        return kExitUsage;
    }
    const Options& options = *parsed.options;
    if (options.show_help) {
        std::cout << usage();
        return 0;
    }
    if (options.show_version) {
        std::cout << "nodebridged " << kVersion << "\n";
        return 0;
    }

    LoadOptions load_options;
    load_options.model_dirs =
        options.model_dirs.empty() ? default_model_dirs() : options.model_dirs;
    for (const std::string& dir : options.model_dirs) {
        // A default dir may be absent; one named on the command line must be there.
        if (!std::filesystem::is_directory(dir)) {
            std::cerr << "nodebridged: --model-dir " << dir << ": not a directory\n";
            return kExitUsage;
        }
    }

    // --list-models and --show-model read the config's models too when there is a config;
    // without one (the default path absent) only the model dirs.
    const bool models_only = (options.list_models || !options.show_model.empty()) &&
                             !options.config_given && !std::filesystem::exists(options.config_path);
    LoadResult loaded =
        models_only ? load_models(load_options) : load_config(options.config_path, load_options);
    if (!loaded.errors.empty()) {
        for (const ConfigError& error : loaded.errors) std::cerr << error.to_string() << "\n";
        std::cerr << "nodebridged: " << (models_only ? "models" : options.config_path) << ": "
                  << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors")
                  << "\n";
        return kExitConfig;
    }
    if (options.list_models) {
        std::cout << list_models(loaded.config->models);
        return 0;
    }
    if (!options.show_model.empty()) {
        for (const ModelRef& model : loaded.config->models) {
            if (model->name != options.show_model) continue;
            std::cout << show_model(*model);
            return 0;
        }
        std::cerr << "nodebridged: no model '" << options.show_model
                  << "' (--list-models lists them)\n";
        return kExitUsage;
    }
    if (options.check_config) {
        for (const ConfigError& warning : loaded.warnings) {
            std::cerr << "warning: " << warning.to_string() << "\n";
        }
        // The spool directory as the user running this (ExecStartPre runs as the service user).
        const BufferConfig& buffer = loaded.config->mqtt.buffer;
        const std::optional<std::string> spool_problem = spool_dir_problem(buffer.dir);
        if (spool_problem) {
            std::cerr << (buffer.required ? "error" : "warning") << ": spool: " << *spool_problem
                      << "; nodebridged "
                      << (buffer.required ? "will refuse to start (mqtt.buffer.required)"
                                          : "would keep QoS 1/2 messages in memory only")
                      << ". Fix: " << spool_remedy(buffer.dir) << "\n";
            if (buffer.required) return kExitConfig;
        }
        // Reads per second each Modbus bus needs; an RTU line asked for more than it can
        // carry is a warning, not an error (it runs, late).
        std::vector<std::string> overcommitted;
        const std::string loads = modbus::describe_bus_loads(*loaded.config, overcommitted);
        for (const std::string& warning : overcommitted) {
            std::cerr << "warning: " << warning << "\n";
        }
        std::cout << describe(*loaded.config) << loads;
        if (const auto& sp = loaded.config->sparkplug) {
            const sparkplug::SparkplugSummary summary = sparkplug::summarize(*loaded.config);
            std::cout << "sparkplug: group " << sp->group_id << ", edge node " << sp->edge_node_id
                      << (sp->primary_host_id.empty() ? ""
                                                      : ", primary host " + sp->primary_host_id)
                      << ", " << summary.devices << " devices with " << summary.metrics
                      << " metrics (serial-nodes devices are learned when heard)\n";
        }
        return 0;
    }

    if (options.show_discovery) {
        Config& config = *loaded.config;
        if (!config.homeassistant) {
            std::cerr << "nodebridged: discovery is off (no homeassistant: section); with "
                         "homeassistant: true it would announce:\n";
            config.homeassistant = HomeAssistantConfig{.status_topic = "homeassistant/status"};
        }
        for (const SourceConfig& source : config.sources) {
            if (std::holds_alternative<SerialNodesSourceConfig>(source.settings)) {
                std::cerr << "nodebridged: the nodes of serial-nodes source '" << source.name
                          << "' are announced when first heard\n";
            }
        }
        for (const Message& message : homeassistant::plan_discovery(config).messages()) {
            std::cout << message.topic << " " << message.payload << "\n";
        }
        return 0;
    }

    // yaml-cpp's node tree for a large config peaks far above what the daemon then needs,
    // and glibc keeps freed heap: hand it back before settling in for months.
    malloc_trim(0);

    std::unique_ptr<Logger> log = systemd::make_logger(options.log_level);
    raise_descriptor_limit(*log);
    for (const ConfigError& warning : loaded.warnings) {
        log->log(LogLevel::warning, "config: " + warning.to_string());
    }
    Daemon daemon(std::move(*loaded.config), options.config_path, *log, std::move(load_options));
    return daemon.run();
}
