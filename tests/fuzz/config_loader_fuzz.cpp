// libFuzzer target for the config loader: the input is written as config.yaml in a private
// scratch directory and handed to load_config(), which must return (never crash, hang or
// throw) with either a config and no errors or at least one error. A config that loads is
// also summarised with describe(), and one with `homeassistant:` is planned for discovery.
//
// The scratch directory holds two fixed files so that relative includes (resolved against
// config.yaml's directory) have something to find: part.yaml (a valid source) and loop.yaml
// (which includes config.yaml back). Its models/ directory holds a fixed model file
// (meters.yaml: models `meter` and `env`) that every load reads as a model dir, so `model:`
// can name something; the input is also loaded a second time as a model file of its own
// (input-models/input.yaml) beside a minimal config. An input may still include or glob any
// absolute path on the machine; the loader only reads what it names, so that is accepted. The
// working directory is left alone so that libFuzzer writes crash and timeout inputs where it was
// run.

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nodebridge/config.hpp"
#include "nodebridge/homeassistant.hpp"

namespace {

// The scratch directory for the whole run (in /dev/shm when there is one: no disk waits),
// removed at exit. A plain array, so it outlives every static destructor.
char scratch_dir[64];

constexpr const char* kFixtureFiles[] = {
    "config.yaml", "part.yaml", "loop.yaml", "models/meters.yaml", "input-models/input.yaml",
    "minimal.yaml"};
constexpr const char* kFixtureDirs[] = {"models", "input-models"};

void write_or_trap(const std::string& path, const void* data, std::size_t size) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) __builtin_trap();
    if (size > 0 && std::fwrite(data, 1, size, file) != size) __builtin_trap();
    if (std::fclose(file) != 0) __builtin_trap();
}

void write_or_trap(const std::string& path, const std::string& text) {
    write_or_trap(path, text.data(), text.size());
}

// Creates the scratch directory with its fixed files.
void make_scratch() {
    std::snprintf(
        scratch_dir, sizeof scratch_dir, "%s",
        access("/dev/shm", W_OK) == 0 ? "/dev/shm/config-fuzz-XXXXXX" : "/tmp/config-fuzz-XXXXXX");
    if (mkdtemp(scratch_dir) == nullptr) __builtin_trap();
    const std::string dir(scratch_dir);
    write_or_trap(dir + "/part.yaml",
                  "sources:\n"
                  "  - name: part-bus\n"
                  "    type: modbus-tcp\n"
                  "    host: 127.0.0.1\n"
                  "    nodes:\n"
                  "      - id: part-1\n"
                  "        attributes:\n"
                  "          volts: { table: input, address: 0, type: float32, unit: V }\n");
    write_or_trap(dir + "/loop.yaml", "include: [config.yaml]\n");
    for (const char* sub : kFixtureDirs) {
        if (mkdir((dir + "/" + sub).c_str(), 0700) != 0) __builtin_trap();
    }
    write_or_trap(dir + "/models/meters.yaml",
                  "models:\n"
                  "  meter:\n"
                  "    manufacturer: Fuzz\n"
                  "    max_registers: 60\n"
                  "    attributes:\n"
                  "      volts: { table: input, address: 0, type: float32, quantity: voltage }\n"
                  "      kwh: { table: input, address: 2, type: uint32, counter: true }\n"
                  "  env:\n"
                  "    received:\n"
                  "      t: { name: temperature, quantity: temperature }\n");
    write_or_trap(dir + "/minimal.yaml", "gateway: fuzz\n");
    std::atexit([] {
        for (const char* name : kFixtureFiles) {
            unlink((std::string(scratch_dir) + "/" + name).c_str());
        }
        for (const char* sub : kFixtureDirs) rmdir((std::string(scratch_dir) + "/" + sub).c_str());
        rmdir(scratch_dir);
    });
}

// Either a config and no errors, or errors and no config; every error says something.
void check(const nodebridge::LoadResult& result) {
    if (result.config.has_value() == !result.errors.empty()) __builtin_trap();
    for (const nodebridge::ConfigError& error : result.errors) {
        if (error.message.empty() || error.to_string().empty()) __builtin_trap();
    }
    if (result.config && nodebridge::describe(*result.config).empty()) __builtin_trap();
    // Discovery announces at least the gateway's own device for every config that loads.
    if (result.config && result.config->homeassistant &&
        nodebridge::homeassistant::plan_discovery(*result.config).messages().empty()) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (scratch_dir[0] == '\0') make_scratch();
    const std::string path = std::string(scratch_dir) + "/config.yaml";
    write_or_trap(path, data, size);

    const std::string dir(scratch_dir);
    check(nodebridge::load_config(path, {{dir + "/models"}}));

    // The same bytes as a model file.
    write_or_trap(dir + "/input-models/input.yaml", data, size);
    check(nodebridge::load_config(dir + "/minimal.yaml", {{dir + "/input-models"}}));
    return 0;
}
