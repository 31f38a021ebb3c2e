// nodebridge scan serial DEVICE: what a wireless-node receiver on a serial port sends
// (docs/man/nodebridge.1). Listens at each baud rate in turn (receivers mostly run 9600 or
// 115200), recognises the line format (kv, json, csv) by parsing what arrives with the
// daemon's own parsers (src/sources/serial), lists the node ids heard and their attributes,
// and prints a serial-nodes source to paste. The port is held as scan rtu holds it (RtuPort).

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <set>

#include "cli.hpp"
#include "nodebridge/config.hpp"
#include "rtu_port.hpp"
#include "sources/serial/line_parser.hpp"

namespace nodebridge::cli {
namespace {

constexpr const char* kUsage =
    "usage: nodebridge scan serial DEVICE [--baud 9600,115200,...] [--listen 3s] [--name NAME]\n";

constexpr int kBauds[] = {9600, 115200, 19200, 38400, 57600, 4800};
constexpr std::size_t kMaxBytes = 64 * 1024;  // per baud rate: enough lines, bounded memory
constexpr std::size_t kMaxLine = 1024;        // as a serial-nodes source's default max_line

void on_signal(int) { RtuPort::interrupt(); }

struct Heard {
    std::size_t lines = 0;
    std::size_t parsed = 0;
    std::map<std::string, std::set<std::string>> nodes;  // id -> attribute names
    std::size_t columns = 0;                             // csv: fields per line
};

// Parses `lines` as `format`; csv is tried with columns "node" and col2..colN, N taken from the
// first line.
Heard try_format(LineFormat format, const std::vector<std::string>& lines) {
    Heard heard;
    heard.lines = lines.size();
    SerialNodesSourceConfig config;
    config.format = format;
    if (format == LineFormat::csv) {
        if (lines.empty()) return heard;
        heard.columns = 1 + static_cast<std::size_t>(
                                std::count(lines.front().begin(), lines.front().end(), ','));
        if (heard.columns < 2) return heard;
        config.columns.push_back("node");
        for (std::size_t i = 2; i <= heard.columns; ++i)
            config.columns.push_back("col" + std::to_string(i));
    }
    std::string error;
    auto parser = serial::make_line_parser(config, error);
    if (!parser) return heard;
    serial::Report report;
    for (const std::string& line : lines) {
        if (parser->parse(line, report) != serial::LineError::none) continue;
        ++heard.parsed;
        auto& names = heard.nodes[report.node];
        for (const Attribute& attribute : report.attributes) names.insert(attribute.name);
    }
    return heard;
}

std::vector<std::string> split_lines(const std::string& bytes) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (true) {
        const auto end = bytes.find('\n', at);
        if (end == std::string::npos) break;  // a partial last line is left out
        std::string line = bytes.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && line.size() <= kMaxLine) lines.push_back(std::move(line));
        at = end + 1;
    }
    return lines;
}

const char* format_name(LineFormat format) {
    return format == LineFormat::kv ? "kv" : format == LineFormat::json ? "json" : "csv";
}

}  // namespace

int run_scan_serial(Args args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? kExitUsage : kExitOk;
    }
    const std::string device(args[0]);
    std::vector<int> bauds(std::begin(kBauds), std::end(kBauds));
    Millis listen{3000};
    std::string name = "radio-" + device.substr(device.rfind('/') + 1);
    std::string error;
    auto usage_error = [&](const std::string& message) {
        std::fprintf(stderr, "nodebridge scan serial: %s\n%s", message.c_str(), kUsage);
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
        } else if (option == "--listen") {
            const auto parsed = parse_millis(value);
            if (!parsed || *parsed > Millis(600000))
                return usage_error("--listen: expected a duration like 3s (at most 10m)");
            listen = *parsed;
        } else if (option == "--name") {
            name = value;
        } else {
            return usage_error("unknown option " + std::string(option));
        }
    }
    std::string baud_list;
    for (int baud : bauds) baud_list += (baud_list.empty() ? "" : ", ") + std::to_string(baud);
    std::printf("listening on %s at baud %s (8N1), %s each\n", device.c_str(), baud_list.c_str(),
                human_duration(listen).c_str());
    std::printf("worst case: %s (it stops at the first rate whose lines parse)\n",
                human_duration(listen * static_cast<long>(bauds.size())).c_str());
    std::fflush(stdout);

    bool busy = false;
    auto port = RtuPort::open(device, error, busy);
    if (!port) {
        std::fprintf(stderr, "nodebridge scan serial: %s\n", error.c_str());
        return kExitUnreachable;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
    const bool progress = isatty(STDERR_FILENO) == 1;

    for (int baud : bauds) {
        if (!port->configure(baud, Parity::none, 1, error)) {
            std::printf("%d: the port refuses it (%s)\n", baud, error.c_str());
            continue;
        }
        if (progress) std::fprintf(stderr, "\rlistening at %d ...   ", baud);
        std::string bytes;
        const auto kind = port->listen(listen, kMaxBytes, bytes, error);
        if (progress) std::fprintf(stderr, "\r%40s\r", "");
        if (kind == RtuPort::Result::Kind::interrupted) {
            std::fprintf(stderr,
                         "nodebridge scan serial: interrupted; %s is back at its settings\n",
                         device.c_str());
            return 130;
        }
        if (kind == RtuPort::Result::Kind::gone) {
            std::fprintf(stderr, "nodebridge scan serial: %s\n", error.c_str());
            return kExitUnreachable;
        }
        const auto lines = split_lines(bytes);
        LineFormat best = LineFormat::kv;
        Heard heard;
        for (LineFormat format : {LineFormat::json, LineFormat::kv, LineFormat::csv}) {
            Heard tried = try_format(format, lines);
            if (tried.parsed > heard.parsed) {
                heard = std::move(tried);
                best = format;
            }
        }
        // Fewer than half the lines, or under two, is chance (a csv of garbage commas).
        if (heard.parsed < 2 || heard.parsed * 2 < lines.size()) {
            std::printf("%d: %zu bytes, %zu lines, no format fits\n", baud, bytes.size(),
                        lines.size());
            continue;
        }
        std::printf("%d: format %s (%zu of %zu lines), %zu node%s\n", baud, format_name(best),
                    heard.parsed, lines.size(), heard.nodes.size(),
                    heard.nodes.size() == 1 ? "" : "s");
        for (const auto& [id, names] : heard.nodes) {
            std::string list;
            for (const auto& attribute : names) list += (list.empty() ? "" : ", ") + attribute;
            std::printf("  %s: %s\n", id.c_str(), list.c_str());
        }
        std::printf(
            "\n# For /etc/nodebridge/conf.d/%s.yaml; check it with nodebridged --check-config, "
            "then systemctl reload nodebridge.\n",
            name.c_str());
        std::string yaml = "sources:\n  - name: " + name + "\n    type: serial-nodes\n" +
                           "    device: " + device + "\n    baud: " + std::to_string(baud) +
                           "\n    format: " + format_name(best) + "\n";
        if (best == LineFormat::csv) {
            yaml +=
                "    # the first column taken for the node id; name the others from the "
                "receiver's documentation\n    columns: [node";
            for (std::size_t i = 2; i <= heard.columns; ++i) yaml += ", col" + std::to_string(i);
            yaml += "]\n";
        }
        yaml += "mappings:\n  - name: " + name + "-readings\n    match: { source: " + name +
                " }\n    topic: site/{gateway}/{node}\n    payload: json\n";
        std::fputs(yaml.c_str(), stdout);
        return kExitOk;
    }
    std::printf("no rate gave lines of a known format (kv, json, csv)\n");
    return kExitNothing;
}

}  // namespace nodebridge::cli
