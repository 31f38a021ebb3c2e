#include "options.hpp"

#include "nodebridge/config.hpp"

namespace nodebridge {

std::string usage() {
    std::string default_dirs;
    for (const std::string& dir : default_model_dirs()) {
        default_dirs += (default_dirs.empty() ? "" : " and ") + dir;
    }
    return "Usage: nodebridged [OPTIONS]\n"
           "Polls Modbus devices and wireless nodes, publishes their readings to MQTT.\n"
           "\n"
           "  -c, --config FILE     configuration file (default /etc/nodebridge/nodebridge.yaml)\n"
           "      --check-config    validate the configuration, print a summary, and exit\n"
           "                        (exit 0 when valid, 78 with every error when not)\n"
           "      --show-discovery  print every Home Assistant discovery message (topic and\n"
           "                        JSON) the configuration gives, without connecting, and exit\n"
           "      --model-dir DIR   read device models from DIR/*.yaml; repeatable, in order,\n"
           "                        replacing the defaults " +
           default_dirs +
           "\n"
           "      --list-models     list every model known (name, maker, device, attributes,\n"
           "                        file) and exit\n"
           "      --show-model NAME print the model NAME as YAML with its file, and exit\n"
           "      --log-level LEVEL error, warning, notice, info (default) or debug\n"
           "      --version         print the version and exit\n"
           "  -h, --help            print this help and exit\n";
}

ParsedOptions parse_options(const std::vector<std::string>& args) {
    Options options;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        // Accepts "--name value" and "--name=value" for options that take a value.
        auto take_value = [&](std::string_view name, std::string& value) -> bool {
            if (arg == name) {
                if (i + 1 >= args.size()) return false;
                value = args[++i];
                return true;
            }
            if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
                arg[name.size()] == '=') {
                value = arg.substr(name.size() + 1);
                return true;
            }
            return false;
        };
        std::string value;
        if (arg == "-h" || arg == "--help") {
            options.show_help = true;
        } else if (arg == "--version") {
            options.show_version = true;
        } else if (arg == "--check-config") {
            options.check_config = true;
        } else if (arg == "--show-discovery") {
            options.show_discovery = true;
        } else if (take_value("-c", value) || take_value("--config", value)) {
            if (value.empty()) return {std::nullopt, "--config needs a file"};
            options.config_path = value;
            options.config_given = true;
        } else if (take_value("--model-dir", value)) {
            if (value.empty()) return {std::nullopt, "--model-dir needs a directory"};
            options.model_dirs.push_back(value);
        } else if (arg == "--list-models") {
            options.list_models = true;
        } else if (take_value("--show-model", value)) {
            if (value.empty()) return {std::nullopt, "--show-model needs a model name"};
            options.show_model = value;
        } else if (take_value("--log-level", value)) {
            if (!parse_log_level(value, options.log_level)) {
                return {std::nullopt, "--log-level: unknown level '" + value +
                                          "' (error, warning, notice, info, debug)"};
            }
        } else if (arg == "-c" || arg == "--config" || arg == "--log-level" ||
                   arg == "--model-dir" || arg == "--show-model") {
            return {std::nullopt, arg + " needs a value"};
        } else {
            return {std::nullopt, "unknown option '" + arg + "'"};
        }
    }
    return {options, {}};
}

}  // namespace nodebridge
