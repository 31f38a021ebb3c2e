#pragma once
// nodebridged's command line.

#include <optional>
#include <string>
#include <vector>

#include "nodebridge/log.hpp"

namespace nodebridge {

struct Options {
    std::string config_path = "/etc/nodebridge/nodebridge.yaml";
    bool config_given = false;  // -c/--config was on the command line
    bool check_config = false;  // validate, print the summary, exit
    bool show_discovery = false;  // print the Home Assistant discovery messages, exit
    bool show_version = false;
    bool show_help = false;
    LogLevel log_level = LogLevel::info;
    // --model-dir, repeatable, in order; empty: default_model_dirs() (the shipped library,
    // then /etc/nodebridge/models).
    std::vector<std::string> model_dirs;
    bool list_models = false;  // --list-models: print every model known, and exit
    std::string show_model;    // --show-model NAME: print that model as YAML, and exit
};

struct ParsedOptions {
    std::optional<Options> options;  // unset when the command line is wrong
    std::string error;               // what was wrong, for stderr
};

// Parses argv (argv[0] is the program name). Never exits or prints.
ParsedOptions parse_options(const std::vector<std::string>& args);

// The --help text.
std::string usage();

// sysexits(3) codes nodebridged exits with.
inline constexpr int kExitUsage = 64;   // EX_USAGE: bad command line
inline constexpr int kExitConfig = 78;  // EX_CONFIG: the configuration is invalid

}  // namespace nodebridge
