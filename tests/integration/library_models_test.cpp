// Every shipped model end to end: nodebridge-sim serves the model (`--model NAME`), nodebridged
// polls it through a relay that records the register words of every reply (ModbusTap), and a
// subscriber checks that each attribute of the model arrives as exactly the value those words
// hold under the model's description. The description is read from the model file here, not
// through the loader, and decoded by this test's own few lines: a word order, byte order,
// type or scale that the daemon applied differently from the file fails the test.

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
#include <string>
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

}  // namespace
}  // namespace nodebridge::test
