// nodebridge scan rtu DEVICE: which line settings and unit ids answer on a Modbus RTU line
// (docs/man/nodebridge.1). Tries the settings in the order installers meet them, each unit at
// each setting with the line's own timing (RtuPort: t3.5 before every request, a reply ends
// at a silence), stops at the first setting where a unit answers, then identifies the units
// found as scan tcp does and prints a YAML block for them.
//
// The port is held exclusively for the whole scan (RtuPort: flock and TIOCEXCL), and its
// settings are restored when the scan ends, also on Ctrl-C (SIGINT/SIGTERM/SIGHUP end the
// loop; the RtuPort destructor restores). Every request is bounded, so the scan is bounded by
// what it prints before it starts.

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "cli.hpp"
#include "nodebridge/config.hpp"
#include "paste_yaml.hpp"
#include "rtu_port.hpp"
#include "scan_report.hpp"

namespace nodebridge::cli {
namespace {

constexpr const char* kUsage =
    "usage: nodebridge scan rtu DEVICE [--baud 9600,19200,...] [--parity none,even,odd]\n"
    "                           [--stop-bits 1|2] [--units 1-247] [--timeout 200ms]\n"
    "                           [--model-dir DIR] [--name NAME]\n";

// Installers' order: 9600 and 19200 (the Modbus default, MODBUS over Serial Line V1.02 section
// 2.5.1) first, then the faster rates meters offer, then the slow ones.
constexpr int kBauds[] = {9600, 19200, 38400, 115200, 57600, 4800, 2400, 1200};
// No parity (the common factory setting of meters), then even (the spec's default), then odd.
constexpr Parity kParities[] = {Parity::none, Parity::even, Parity::odd};
constexpr std::size_t kTrustCheckUnits = 16;
// Bytes of a reply to the probe at most: unit, function, byte count, one register, CRC.
constexpr std::size_t kProbeReply = 7;
constexpr std::size_t kMaxReply = 256;  // any frame (MODBUS over Serial Line V1.02, 2.5.1)

std::string parity_name(Parity parity) {
    return parity == Parity::none ? "none" : parity == Parity::even ? "even" : "odd";
}

std::string setting_name(int baud, Parity parity, int stop_bits) {
    return std::to_string(baud) + " 8" + static_cast<char>(std::toupper(parity_name(parity)[0])) +
           std::to_string(stop_bits);
}

void on_signal(int) { RtuPort::interrupt(); }

}  // namespace

int run_scan_rtu(Args args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? kExitUsage : kExitOk;
    }
    const std::string device(args[0]);
    std::vector<int> bauds(std::begin(kBauds), std::end(kBauds));
    std::vector<Parity> parities(std::begin(kParities), std::end(kParities));
    int stop_bits = 1;
    std::vector<int> units;
    for (int unit = 1; unit <= 247; ++unit) units.push_back(unit);
    Millis timeout{200};
    LoadOptions load;
    std::string name = device.substr(device.rfind('/') + 1);
    name = source_name_for(name.empty() ? device : name);
    std::string error;
    auto usage_error = [&](const std::string& message) {
        std::fprintf(stderr, "nodebridge scan rtu: %s\n%s", message.c_str(), kUsage);
        return kExitUsage;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view option = args[i];
        if (option == "--help" || option == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
        if (i + 1 >= args.size()) return usage_error("missing value of " + std::string(option));
        const std::string value(args[++i]);
        if (option == "--baud") {
            bauds.clear();
            std::size_t at = 0;
            while (at <= value.size()) {
                const auto comma = value.find(',', at);
                const std::string item = value.substr(at, comma - at);
                const auto list = parse_unit_list(item, 1200, 230400, error);
                if (!list || list->size() != 1)
                    return usage_error("--baud: bad rate '" + item + "'");
                bauds.push_back(list->front());
                if (comma == std::string::npos) break;
                at = comma + 1;
            }
        } else if (option == "--parity") {
            parities.clear();
            std::size_t at = 0;
            while (at <= value.size()) {
                const auto comma = value.find(',', at);
                const std::string item = value.substr(at, comma - at);
                if (item == "none")
                    parities.push_back(Parity::none);
                else if (item == "even")
                    parities.push_back(Parity::even);
                else if (item == "odd")
                    parities.push_back(Parity::odd);
                else
                    return usage_error("--parity: expected none, even or odd, got '" + item + "'");
                if (comma == std::string::npos) break;
                at = comma + 1;
            }
        } else if (option == "--stop-bits") {
            if (value != "1" && value != "2") return usage_error("--stop-bits is 1 or 2");
            stop_bits = value == "2" ? 2 : 1;
        } else if (option == "--units") {
            auto list = parse_unit_list(value, 1, 247, error);
            if (!list) return usage_error(error);
            units = std::move(*list);
        } else if (option == "--timeout") {
            const auto parsed = parse_millis(value);
            if (!parsed || *parsed > Millis(60000))
                return usage_error("--timeout: expected a duration like 200ms (1ms..60s)");
            timeout = *parsed;
        } else if (option == "--model-dir") {
            load.model_dirs.push_back(value);
        } else if (option == "--name") {
            name = value;
        } else {
            return usage_error("unknown option " + std::string(option));
        }
    }
    if (load.model_dirs.empty()) load.model_dirs = default_model_dirs();
    const LoadResult loaded = load_models(load);
    if (!loaded.config) {
        for (const ConfigError& e : loaded.errors)
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        return kExitConfig;
    }
    std::vector<ModelRef> models;
    for (const ModelRef& model : loaded.config->models) {
        if (!model->identify.empty()) models.push_back(model);
    }
    const std::size_t reads = identification_reads(models);

    // The bound: every setting, every unit, each request at its worst.
    std::chrono::microseconds sweep{0}, per_unit{0};
    for (int baud : bauds) {
        for (Parity parity : parities) {
            const modbus::CharFraming framing{.baud = baud,
                                              .data_bits = 8,
                                              .parity = parity != Parity::none,
                                              .stop_bits = stop_bits};
            sweep += RtuPort::worst_case(framing, 5, kProbeReply, timeout) *
                     static_cast<long>(units.size());
            per_unit = std::max(per_unit, RtuPort::worst_case(framing, 5, kMaxReply, timeout) *
                                              static_cast<long>(1 + reads));
        }
    }
    std::string baud_list;
    for (int baud : bauds) baud_list += (baud_list.empty() ? "" : ", ") + std::to_string(baud);
    std::printf("scanning %s: %zu line settings in this order (baud %s; parity", device.c_str(),
                bauds.size() * parities.size(), baud_list.c_str());
    for (Parity parity : parities) std::printf(" %s", parity_name(parity).c_str());
    std::printf("; %d stop bit%s), units %s, %s per request\n", stop_bits, stop_bits > 1 ? "s" : "",
                unit_ranges(units).c_str(), human_duration(timeout).c_str());
    std::printf(
        "worst case: %s for the sweep (it stops at the first setting a unit answers), plus %s "
        "per unit that answers (function 43 and %zu identification registers)\n",
        human_duration(sweep).c_str(), human_duration(per_unit).c_str(), reads);
    std::fflush(stdout);

    bool busy = false;
    auto port = RtuPort::open(device, error, busy);
    if (!port) {
        std::fprintf(stderr, "nodebridge scan rtu: %s\n", error.c_str());
        return kExitUnreachable;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;  // no SA_RESTART: a blocking call returns at once
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);

    const bool progress = isatty(STDERR_FILENO) == 1;
    const auto probe = probe_pdu();
    std::vector<ScannedUnit> found;
    std::string found_setting;
    Parity found_parity = Parity::none;
    int found_baud = 0;
    std::vector<std::string> noisy;    // settings at which garbage arrived
    std::vector<std::string> skipped;  // settings the port refused
    auto interrupted = [&] {
        if (progress) std::fprintf(stderr, "\r%70s\r", "");
        std::fprintf(stderr, "nodebridge scan rtu: interrupted; %s is back at its settings\n",
                     device.c_str());
        return 130;
    };
    for (std::size_t b = 0; b < bauds.size() && found.empty(); ++b) {
        for (std::size_t p = 0; p < parities.size() && found.empty(); ++p) {
            const std::string setting = setting_name(bauds[b], parities[p], stop_bits);
            if (!port->configure(bauds[b], parities[p], stop_bits, error)) {
                // A port that cannot take a setting (a pseudo-terminal refuses parity) is not
                // at that setting: go on with the next.
                skipped.push_back(setting);
                continue;
            }
            std::size_t garbage = 0;
            for (std::size_t u = 0; u < units.size(); ++u) {
                if (progress) {
                    std::fprintf(stderr, "\r%s: unit %d (%zu of %zu)   ", setting.c_str(), units[u],
                                 u + 1, units.size());
                }
                auto result = port->transact(static_cast<std::uint8_t>(units[u]), probe, timeout,
                                             kProbeReply);
                using Kind = RtuPort::Result::Kind;
                if (result.kind == Kind::interrupted) return interrupted();
                if (result.kind == Kind::gone) {
                    if (progress) std::fprintf(stderr, "\n");
                    std::fprintf(stderr, "nodebridge scan rtu: %s\n", result.error.c_str());
                    return kExitUnreachable;
                }
                if (result.kind == Kind::garbage) ++garbage;
                if (result.kind != Kind::reply) continue;
                ScannedUnit entry;
                entry.unit = units[u];
                entry.rtt = result.rtt;
                if (present(result.pdu, entry)) found.push_back(std::move(entry));
            }
            if (garbage > 0) noisy.push_back(setting + " (" + std::to_string(garbage) + ")");
            if (!found.empty()) {
                found_setting = setting;
                found_baud = bauds[b];
                found_parity = parities[p];
            }
        }
    }
    if (progress) std::fprintf(stderr, "\r%70s\r", "");
    if (!skipped.empty()) {
        std::printf("the port refused (so none of its units can be there):");
        for (const auto& text : skipped) std::printf(" %s", text.c_str());
        std::printf("\n");
    }
    if (!noisy.empty()) {
        std::printf("garbage (bytes that were no reply) arrived at:");
        for (const auto& text : noisy) std::printf(" %s", text.c_str());
        std::printf("\n");
    }
    if (found.empty()) {
        std::printf("no unit answered at any setting tried\n");
        return kExitNothing;
    }
    if (units.size() >= kTrustCheckUnits && found.size() == units.size()) {
        std::fprintf(stderr,
                     "nodebridge scan rtu: every unit id %s answered at %s: something answers "
                     "for any id (a converter or gateway echoing?); scan one unit with --units N\n",
                     unit_ranges(units).c_str(), found_setting.c_str());
        return kExitUntrusted;
    }
    std::printf("line: %s\n", found_setting.c_str());
    std::vector<FoundUnit> pasted;
    for (ScannedUnit& entry : found) {
        const auto unit = static_cast<std::uint8_t>(entry.unit);
        bool stop = false;
        const Send send = [&](std::span<const std::uint8_t> pdu) {
            Answer answer;
            if (stop) {
                answer.error = "interrupted";
                return answer;
            }
            auto result = port->transact(unit, pdu, timeout, kMaxReply);
            using Kind = RtuPort::Result::Kind;
            stop = result.kind == Kind::interrupted || result.kind == Kind::gone;
            answer.replied = result.kind == Kind::reply;
            answer.pdu = std::move(result.pdu);
            answer.error = result.kind == Kind::timeout   ? "no answer"
                           : result.kind == Kind::garbage ? "garbage instead of a reply"
                                                          : result.error;
            return answer;
        };
        identify_unit(entry, models, send);
        if (stop) return interrupted();
        pasted.push_back(
            {entry.unit, entry.candidates.empty() ? "" : entry.candidates.front().model->name});
    }
    print_units(found, units.size());
    std::printf(
        "\n# For /etc/nodebridge/conf.d/%s.yaml; check it with nodebridged --check-config, then "
        "systemctl reload nodebridge.\n",
        name.c_str());
    std::vector<std::string> source_lines = {"type: modbus-rtu", "device: " + device,
                                             "baud: " + std::to_string(found_baud),
                                             "parity: " + parity_name(found_parity)};
    if (stop_bits == 2) source_lines.push_back("stop_bits: 2");
    std::fputs(paste_yaml(name, source_lines, pasted).c_str(), stdout);
    return kExitOk;
}

}  // namespace nodebridge::cli
