// Issue #25, part 1, end to end with a device nodebridge's code has no part in: Debian's
// pymodbus serves a meter, a proxy in front of it (tests/support/delay_proxy) makes its replies
// come later than the timeout for a few seconds, and nodebridged must publish its readings
// again on its own once it answers in time, with the late replies counted ("stale") on the
// stats topic.

#include <gtest/gtest.h>

#include <thread>

#include "support/delay_proxy.hpp"
#include "support/json.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, which has python3-pymodbus

constexpr const char* kConfig = R"(gateway: gw-stall
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: "" }
stats:
  interval: 1s
sources:
  - name: field
    type: modbus-tcp
    host: 127.0.0.1
    port: @PROXY@
    timeout: 300ms
    dead_after: 3
    dead_poll: 1s
    nodes:
      - id: meter-1
        unit: 1
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
          current: { table: input, address: 2, type: float32, unit: A }
          setpoint: { table: holding, address: 10, type: uint16 }
mappings:
  - name: meters
    match: { source: field }
    topic: site/{node}/{attribute}
    payload: value
    qos: 0
)";

// The count of `kind` errors of source `field` in a stats payload, or -1.
double errors_of(const std::string& stats, const std::string& kind) {
    const auto json = parse_json(stats);
    if (!json) return -1;
    const Json* sources = json->find("sources");
    const Json* field = sources ? sources->find("field") : nullptr;
    const Json* errors = field ? field->find("errors") : nullptr;
    const Json* count = errors ? errors->find(kind) : nullptr;
    return count && count->is_number() ? count->number() : -1;
}

TEST(StalledDevice, APymodbusDeviceThatAnsweredLateIsPublishedAgainOnceItIsFast) {
    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    const int device_port = free_port();
    Process device({kPython, SOURCE_DIR "/tests/integration/devices/pymodbus_device.py",
                    std::to_string(device_port)},
                   dir.file("device.log"));
    ASSERT_TRUE(device.wait_for_output("ready", 15s)) << device.output();
    DelayProxy proxy(device_port);
    proxy.set_reply_delay(50ms);  // a real network's latency outside the slow spell
    const std::string config =
        dir.write("nodebridge.yaml",
                  replace_all(replace_all(kConfig, "@MQTT@", std::to_string(broker.port())),
                              "@PROXY@", std::to_string(proxy.port())));
    Subscriber subscriber(broker.port(), {"site/#", "nodebridge/gw-stall/stats"});
    Process daemon({NODEBRIDGED_PATH, "-c", config}, dir.file("daemon.log"));
    const auto first = subscriber.wait_for_message("site/meter-1/voltage", 15s);
    ASSERT_TRUE(first.has_value()) << daemon.output();
    EXPECT_EQ(first->payload, "230.5");
    EXPECT_TRUE(subscriber.wait_for_message("site/meter-1/setpoint", 5s, "421").has_value());

    proxy.set_reply_delay(700ms);  // every reply comes 400 ms after the timeout
    std::this_thread::sleep_for(2500ms);
    proxy.set_reply_delay(50ms);
    subscriber.clear();
    // Dead after three failed polls, so probed every dead_poll (1 s): read by the next probe.
    const auto again = subscriber.wait_for_message("site/meter-1/voltage", 3s);
    ASSERT_TRUE(again.has_value()) << "no reading 3 s after the device answered in time again\n"
                                   << daemon.output();
    EXPECT_EQ(again->payload, "230.5");
    EXPECT_TRUE(subscriber.wait_for_message("site/meter-1/current", 2s, "12.25").has_value());
    EXPECT_TRUE(subscriber.wait_for(
        [](const std::vector<Received>& got) {
            for (const auto& m : got) {
                if (m.topic == "nodebridge/gw-stall/stats" && errors_of(m.payload, "stale") >= 1 &&
                    errors_of(m.payload, "timeout") >= 1) {
                    return true;
                }
            }
            return false;
        },
        5s))
        << "no stats message counting the timeouts and the late replies";
    EXPECT_EQ(proxy.connections(), 1);
}

}  // namespace
}  // namespace nodebridge::test
