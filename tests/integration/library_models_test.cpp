// Every shipped model end to end: nodebridge-sim serves the model (`--model NAME`), nodebridged
// polls it through a relay that records the register words of every reply (ModbusTap), and a
// subscriber checks that each attribute of the model arrives as exactly the value those words
// hold under the model's description. The description is read from the model file here, not
// through the loader, and decoded by this test's own few lines: a word order, byte order,
// type or scale that the daemon applied differently from the file fails the test.
// One model is also read the other way a real bus is reached: three meters behind a simulated
// serial device server (`nodebridge-sim modbus-rtu --tcp-port`, RTU frames over TCP), a
// `modbus-tcp` source with `framing: rtu`, the energy counters at an interval of their own.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "modbus_tap.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

const std::string kLibraryDir = std::string(SOURCE_DIR) + "/models";

// One attribute as the model file describes it.
struct Spec {
    std::string name;
    int function = 3;  // 3 holding, 4 input
    std::uint16_t address = 0;
    std::string type = "uint16";
    bool little_word_order = false;
    bool byte_swap = false;
    double scale = 1.0;
    double offset = 0.0;
    std::string quantity;
    bool counter = false;                     // `counter: true` or `counter: net`
    std::map<long long, std::string> states;  // `states:`: a code is published as its name
};

struct Model {
    std::string name;
    std::string file;
    std::vector<Spec> attributes;
};

// gtest names a failing parameter by this, not by its bytes.
void PrintTo(const Model& model, std::ostream* out) {
    *out << model.name << " (" << model.file << ")";
}

int width(const std::string& type) {
    if (type == "int32" || type == "uint32" || type == "float32") return 2;
    if (type == "int64" || type == "uint64" || type == "float64") return 4;
    return 1;
}

std::vector<Model> library_models() {
    std::vector<Model> models;
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(kLibraryDir)) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        const YAML::Node root = YAML::LoadFile(kLibraryDir + "/" + file);
        for (const auto& entry : root["models"]) {
            Model model{entry.first.as<std::string>(), file, {}};
            for (const auto& item : entry.second["attributes"]) {
                const YAML::Node a = item.second;
                Spec spec;
                spec.name = item.first.as<std::string>();
                const std::string table = a["table"] ? a["table"].as<std::string>() : "holding";
                if (table != "holding" && table != "input") continue;  // bits: none shipped
                spec.function = table == "input" ? 4 : 3;
                spec.address = static_cast<std::uint16_t>(
                    std::stoul(a["address"].as<std::string>(), nullptr, 0));
                if (a["type"]) spec.type = a["type"].as<std::string>();
                if (a["word_order"])
                    spec.little_word_order = a["word_order"].as<std::string>() == "little";
                if (a["byte_swap"]) spec.byte_swap = a["byte_swap"].as<bool>();
                if (a["scale"]) spec.scale = a["scale"].as<double>();
                if (a["offset"]) spec.offset = a["offset"].as<double>();
                if (a["quantity"]) spec.quantity = a["quantity"].as<std::string>();
                if (a["counter"]) {  // true, or net: a counter that may also go down
                    const std::string counter = a["counter"].as<std::string>();
                    spec.counter = counter == "true" || counter == "net";
                }
                for (const auto& state : a["states"]) {
                    spec.states.emplace(std::stoll(state.first.as<std::string>(), nullptr, 0),
                                        state.second.as<std::string>());
                }
                model.attributes.push_back(spec);
            }
            models.push_back(std::move(model));
        }
    }
    return models;
}

// A float32 as the decimal the device means, as nodebridged publishes it: the shortest text
// that reads back as the same float, read as a double.
double float_decimal(float value) {
    if (!std::isfinite(value)) return value;
    char text[32];
    const auto written = std::to_chars(text, text + sizeof text, value);
    return std::strtod(std::string(text, written.ptr).c_str(), nullptr);
}

// What `words` (a reply starting at `start`) hold for `spec`, if the reply covers it.
std::optional<double> decode(const Spec& spec, const TappedReply& reply) {
    const int count = width(spec.type);
    if (reply.function != spec.function || spec.address < reply.start ||
        spec.address + count > reply.start + static_cast<int>(reply.words.size())) {
        return std::nullopt;
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < count; ++i) {
        const int index = spec.little_word_order ? count - 1 - i : i;
        std::uint16_t word = reply.words[spec.address - reply.start + index];
        if (spec.byte_swap) word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
        bits = (bits << 16) | word;
    }
    double raw = 0;
    if (spec.type == "int16")
        raw = static_cast<std::int16_t>(bits);
    else if (spec.type == "uint16")
        raw = static_cast<std::uint16_t>(bits);
    else if (spec.type == "int32")
        raw = static_cast<std::int32_t>(bits);
    else if (spec.type == "uint32")
        raw = static_cast<std::uint32_t>(bits);
    else if (spec.type == "float32")
        raw = float_decimal(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    else if (spec.type == "int64")
        raw = static_cast<double>(static_cast<std::int64_t>(bits));
    else if (spec.type == "uint64")
        raw = static_cast<double>(bits);
    else if (spec.type == "float64")
        raw = std::bit_cast<double>(bits);
    else
        return std::nullopt;
    return raw * spec.scale + spec.offset;
}

bool same(double published, double served) {
    return std::fabs(published - served) <= 1e-9 * std::max(1.0, std::fabs(served));
}

int ready_port(const std::string& output) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

constexpr const char* kConfig = R"(gateway: gw-library
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: @SPOOL@ }
sources:
  - name: bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 500ms
    nodes:
      - id: meter
        unit: 1
        poll: 200ms
        model: @MODEL@
mappings:
  - name: every-attribute
    match: { source: bus }
    topic: lib/{node}/{attribute}
    payload: value
    qos: 0
)";

class LibraryModel : public ::testing::TestWithParam<Model> {};

TEST_P(LibraryModel, EveryAttributeArrivesAsTheSimulatorServedIt) {
    const Model& model = GetParam();
    ASSERT_FALSE(model.attributes.empty()) << model.name;
    TempDir dir;
    Broker broker;
    broker.start();

    Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir", kLibraryDir, "--model",
                 model.name, "--units", "1"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const int sim_port = ready_port(sim.output());
    ASSERT_NE(sim_port, 0) << sim.output();
    ModbusTap tap(sim_port);

    std::string config = replace_all(kConfig, "@MQTT@", std::to_string(broker.port()));
    config = replace_all(config, "@SPOOL@", dir.file("spool"));
    config = replace_all(config, "@MODBUS@", std::to_string(tap.port()));
    config = replace_all(config, "@MODEL@", model.name);
    const std::string config_path = dir.write("nodebridge.yaml", config);
    Subscriber subscriber(broker.port(), {"lib/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", config_path, "--model-dir", kLibraryDir},
                   dir.file("daemon.log"));

    // An attribute is proven once a value published for it equals what some reply held.
    const auto unproven = [&] {
        const std::vector<TappedReply> replies = tap.replies();
        std::vector<const Spec*> missing;
        for (const Spec& spec : model.attributes) {
            bool proven = false;
            for (const Received& message : subscriber.on_topic("lib/meter/" + spec.name)) {
                // A coded attribute's known code arrives as its name.
                const auto named = [&](double served) {
                    const auto state = spec.states.find(std::llround(served));
                    return state != spec.states.end() && state->second == message.payload;
                };
                char* end = nullptr;
                const double published = std::strtod(message.payload.c_str(), &end);
                const bool number = end != message.payload.c_str() && *end == '\0';
                if (!number && spec.states.empty()) continue;
                for (const TappedReply& reply : replies) {
                    const auto served = decode(spec, reply);
                    if (served && (number ? same(published, *served) : named(*served))) {
                        proven = true;
                        break;
                    }
                }
                if (proven) break;
            }
            if (!proven) missing.push_back(&spec);
        }
        return missing;
    };
    const bool all = wait_until([&] { return unproven().empty(); }, 20s);
    if (!all) {
        std::ostringstream why;
        const std::vector<TappedReply> replies = tap.replies();
        for (const Spec* spec : unproven()) {
            why << spec->name << ": published [";
            for (const Received& message : subscriber.on_topic("lib/meter/" + spec->name)) {
                why << message.payload << " ";
            }
            why << "] served [";
            int shown = 0;
            for (auto reply = replies.rbegin(); reply != replies.rend() && shown < 3; ++reply) {
                if (const auto served = decode(*spec, *reply)) {
                    why << *served << " ";
                    ++shown;
                }
            }
            why << "]\n";
        }
        ADD_FAILURE() << model.name << " (" << model.file << "): attributes not proven:\n"
                      << why.str() << "daemon log:\n"
                      << daemon.output() << "\nsim log:\n"
                      << sim.output();
    }

    // The simulator means its values (mains frequency near 50 Hz): the model's word order and
    // scale give back a plausible reading, not just the same wrong one on both sides.
    for (const Spec& spec : model.attributes) {
        if (spec.quantity != "frequency") continue;
        const auto messages = subscriber.on_topic("lib/meter/" + spec.name);
        ASSERT_FALSE(messages.empty()) << spec.name;
        const double hz = std::strtod(messages.back().payload.c_str(), nullptr);
        EXPECT_GT(hz, 40.0) << model.name << "." << spec.name;
        EXPECT_LT(hz, 70.0) << model.name << "." << spec.name;
    }

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(10s), 0) << daemon.output();
}

std::string test_name(const ::testing::TestParamInfo<Model>& info) {
    std::string name = info.param.name;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, LibraryModel, ::testing::ValuesIn(library_models()), test_name);

const Model& shipped_model(const std::string& name) {
    static const std::vector<Model> models = library_models();
    for (const Model& model : models) {
        if (model.name == name) return model;
    }
    throw std::runtime_error("no shipped model " + name);
}

int ready_server_port(const std::string& output) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-rtu tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

bool covers(const TappedReply& reply, std::uint16_t address) {
    return address >= reply.start && address < reply.start + reply.words.size();
}

// Issue #23: the shipped eastron-sdm630 on units 1-3 behind a simulated serial device server
// (RTU frames with their CRC over TCP, each reply byte in a segment of its own at the pace of
// a 38,400-baud line), read by a `modbus-tcp` source with `framing: rtu`, the instantaneous
// values every second and the energy counters (`counter: true` in the model) every 4 s. Each
// attribute of each meter arrives as exactly the value its own unit's reply held (ModbusTap
// in RTU framing), and the reads keep to their intervals without mixing them.
TEST(RtuOverTcp, AShippedModelsMetersBehindASerialServerArriveAsServed) {
    const Model& model = shipped_model("eastron-sdm630");
    constexpr int kUnits = 3;
    std::string slow;
    std::uint16_t first_counter = 0xFFFF;
    for (const Spec& spec : model.attributes) {
        if (!spec.counter) continue;
        slow += "          " + spec.name + ": { poll: 4s }\n";
        first_counter = std::min(first_counter, spec.address);
    }
    ASSERT_FALSE(slow.empty());
    // The check below that no read mixes the intervals needs an attribute read every second
    // right before the first counter.
    ASSERT_TRUE(std::any_of(model.attributes.begin(), model.attributes.end(), [&](const Spec& a) {
        return !a.counter && a.address + width(a.type) == first_counter;
    }));
    TempDir dir;
    Broker broker;
    broker.start();
    Process sim(
        {SIM_PATH, "modbus-rtu", "--tcp-port", "0", "--wire", "--baud", "38400", "--model-dir",
         kLibraryDir, "--model", model.name, "--units", "1-" + std::to_string(kUnits)},
        dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const int sim_port = ready_server_port(sim.output());
    ASSERT_NE(sim_port, 0) << sim.output();
    ModbusTap tap(sim_port, TapFraming::rtu);

    const std::string config = R"(gateway: gw-serial-server
mqtt:
  host: 127.0.0.1
  port: )" + std::to_string(broker.port()) +
                               R"(
  keepalive: 5s
  buffer: { dir: )" + dir.file("spool") +
                               R"( }
sources:
  - name: boiler-room
    type: modbus-tcp
    host: 127.0.0.1
    port: )" + std::to_string(tap.port()) +
                               R"(
    framing: rtu
    timeout: 500ms
    request_gap: 10ms
    nodes:
      - id: "sdm-{unit}"
        units: 1-)" + std::to_string(kUnits) +
                               R"(
        model: )" + model.name +
                               R"(
        poll: 1s
        attributes:
)" + slow + R"(mappings:
  - name: every-attribute
    topic: rtu/{node}/{attribute}
    payload: value
    qos: 0
)";
    Subscriber subscriber(broker.port(), {"rtu/#"});
    Process daemon(
        {NODEBRIDGED_PATH, "-c", dir.write("nodebridge.yaml", config), "--model-dir", kLibraryDir},
        dir.file("daemon.log"));

    // An attribute of a meter is proven once a value published for it equals what a reply of
    // that meter's unit held.
    const auto unproven = [&] {
        const std::vector<TappedReply> replies = tap.replies();
        std::vector<std::string> missing;
        for (int unit = 1; unit <= kUnits; ++unit) {
            const std::string node = "sdm-" + std::to_string(unit);
            for (const Spec& spec : model.attributes) {
                bool proven = false;
                for (const Received& message :
                     subscriber.on_topic("rtu/" + node + "/" + spec.name)) {
                    char* end = nullptr;
                    const double published = std::strtod(message.payload.c_str(), &end);
                    if (end == message.payload.c_str() || *end != '\0') continue;
                    for (const TappedReply& reply : replies) {
                        if (reply.unit != unit) continue;
                        const auto served = decode(spec, reply);
                        if (served && same(published, *served)) {
                            proven = true;
                            break;
                        }
                    }
                    if (proven) break;
                }
                if (!proven) missing.push_back(node + "/" + spec.name);
            }
        }
        return missing;
    };
    if (!wait_until([&] { return unproven().empty(); }, 20s)) {
        std::string why;
        for (const std::string& name : unproven()) why += name + " ";
        FAIL() << "not proven: " << why << "\ndaemon log:\n"
               << daemon.output() << "\nsim log:\n"
               << sim.output();
    }

    // The simulator means its values (model_devices.cpp: voltage near 230 V, 400 V line to
    // line, mains frequency near 50 Hz, energy counting up from 1234.5 kWh): the words were
    // decoded as the meter means them, not the same wrong way on both sides.
    const auto latest = [&](const std::string& name) {
        const auto messages = subscriber.on_topic("rtu/sdm-2/" + name);
        return messages.empty() ? 0.0 : std::strtod(messages.back().payload.c_str(), nullptr);
    };
    EXPECT_NEAR(latest("voltage_l1"), 230.0, 1.6);
    EXPECT_NEAR(latest("voltage_l1_l2"), 400.0, 1.6);
    EXPECT_NEAR(latest("frequency"), 50.0, 0.06);
    EXPECT_GE(latest("energy_import"), 1234.5);
    EXPECT_LT(latest("energy_import"), 1300.0);

    // A window of 4 s: per meter 4 reads of the instantaneous values from input 0 and 1 read
    // of the counters from first_counter on, each +-1.5; no read holds both intervals (the
    // frequency at 0x46 sits right before the first counter at 0x48).
    subscriber.clear();
    const std::size_t replies_before = tap.replies().size();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(4s);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::vector<TappedReply> replies = tap.replies();
    std::map<int, int> fast_reads, slow_reads;
    for (std::size_t i = replies_before; i < replies.size(); ++i) {
        if (covers(replies[i], 0)) ++fast_reads[replies[i].unit];
        if (covers(replies[i], first_counter)) ++slow_reads[replies[i].unit];
    }
    for (const TappedReply& reply : replies) {
        EXPECT_FALSE(covers(reply, first_counter) && covers(reply, first_counter - 2))
            << "unit " << reply.unit << " read " << reply.start << "+" << reply.words.size();
    }
    for (int unit = 1; unit <= kUnits; ++unit) {
        EXPECT_NEAR(fast_reads[unit], seconds / 1.0, 1.5) << "unit " << unit;
        EXPECT_NEAR(slow_reads[unit], seconds / 4.0, 1.5) << "unit " << unit;
    }
    std::map<std::string, int> published;
    for (const Received& message : subscriber.messages()) ++published[message.topic];
    EXPECT_NEAR(published["rtu/sdm-1/voltage_l1"], seconds / 1.0, 1.5);
    EXPECT_NEAR(published["rtu/sdm-1/energy_import"], seconds / 4.0, 1.5);

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(10s), 0) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
