// nodebridge read: one node's readings as a table (attribute, value, unit, table, address, raw
// registers in hex, errors inline), or as JSON, once or every --watch interval
// (docs/man/nodebridge.1). The node comes from the command line (a host, a unit and a library
// model) or from a config file (-c FILE NODE). It plans and decodes with the daemon's own
// planner (request_plan.hpp) and decoder (poll_reply.hpp), so what it prints is what the
// daemon publishes; a request the device refuses with "illegal data address" is split as the
// daemon splits it, so the error lands on the attribute that caused it.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli.hpp"
#include "decode.hpp"
#include "mbap.hpp"
#include "nodebridge/config.hpp"
#include "nodebridge/mapping.hpp"
#include "poll_reply.hpp"
#include "request_plan.hpp"
#include "rtu_port.hpp"
#include "scan_report.hpp"
#include "tcp_client.hpp"

namespace nodebridge::cli {
namespace {

constexpr const char* kUsage =
    "usage: nodebridge read tcp HOST[:PORT] --unit N --model NAME [--model-dir DIR]\n"
    "                       [--timeout 1s] [--json] [--watch 1s]\n"
    "       nodebridge read rtu DEVICE [--baud 9600] [--parity none] [--stop-bits 1] --unit N\n"
    "                       --model NAME [--model-dir DIR] [--timeout 1s] [--json] [--watch 1s]\n"
    "       nodebridge read -c CONFIG NODE [--model-dir DIR] [--json] [--watch 1s]\n";

// What one read of a node is about.
struct Node {
    std::string id;
    std::string host;  // TCP, or
    int port = 502;
    std::optional<SerialLine> line;  // RTU
    int unit = 1;
    ModbusAttributeTable attributes;
    std::uint16_t max_gap = 0;
    std::uint16_t max_registers = 125;
    Millis timeout{1000};
};

struct Row {
    std::optional<Value> value;
    std::string raw;    // "0x4366 0x8000", or "1" for a bit
    std::string error;  // empty when read
};

std::string exception_text(std::uint8_t code) {
    std::string text(modbus::mbap::exception_text(code));
    if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text + " (exception " + std::to_string(code) + ")";
}

std::string hex_word(std::uint16_t word) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%04X", word);
    return text;
}

// One read of every attribute of `node` through `send`: a row per attribute, in the table's
// order.
std::vector<Row> read_node(const Send& send, const Node& node) {
    const auto& list = node.attributes.list();
    std::vector<Row> rows(list.size());
    const modbus::RequestPlan plan = modbus::plan_requests(list, node.max_gap, node.max_registers);
    for (std::size_t index : plan.rejected) {
        rows[index].error = "cannot be read (wider than a request, or past address 65535)";
    }
    std::vector<modbus::ReadRequest> queue = plan.requests;
    std::vector<std::optional<Value>> values(list.size());
    for (std::size_t next = 0; next < queue.size(); ++next) {
        const modbus::ReadRequest request = queue[next];
        const std::vector<std::uint8_t> pdu = {modbus::mbap::read_function(request.table),
                                               static_cast<std::uint8_t>(request.address >> 8),
                                               static_cast<std::uint8_t>(request.address & 0xFF),
                                               static_cast<std::uint8_t>(request.count >> 8),
                                               static_cast<std::uint8_t>(request.count & 0xFF)};
        const Answer result = send(pdu);
        auto fail_all = [&](const std::string& why) {
            for (std::size_t index : request.attributes) rows[index].error = why;
        };
        if (!result.replied) {
            fail_all(result.error);
            continue;
        }
        std::vector<std::uint16_t> registers;
        std::vector<std::uint8_t> bits;
        std::uint8_t code = 0;
        const auto status = modbus::mbap::decode_read_reply(request.table, request.count,
                                                            result.pdu, registers, bits, code);
        if (status == modbus::mbap::ReplyStatus::exception) {
            if (code == 2) {
                auto pieces = modbus::split_request(request, list);
                if (!pieces.empty()) {
                    queue.insert(queue.begin() + static_cast<long>(next) + 1, pieces.begin(),
                                 pieces.end());
                    continue;
                }
            }
            fail_all(exception_text(code));
            continue;
        }
        if (status != modbus::mbap::ReplyStatus::ok) {
            fail_all("bad reply (" + std::string(modbus::mbap::to_string(status)) + ")");
            continue;
        }
        const auto failed = modbus::decode_reply(request, list, registers, bits, values);
        for (std::size_t index : request.attributes) {
            const ModbusAttribute& attribute = list[index];
            Row& row = rows[index];
            const std::size_t offset = attribute.address - request.address;
            if (modbus::is_bit_table(request.table)) {
                if (offset < bits.size()) row.raw = bits[offset] ? "1" : "0";
            } else {
                const std::size_t width = modbus::attribute_width(attribute);
                for (std::size_t i = offset; i < offset + width && i < registers.size(); ++i)
                    row.raw += (row.raw.empty() ? "" : " ") + hex_word(registers[i]);
            }
            if (std::find(failed.begin(), failed.end(), index) != failed.end()) {
                row.error = "cannot be decoded as " + to_string(attribute.type);
            } else {
                row.value = values[index];
            }
        }
    }
    return rows;
}

// "127.0.0.1:502", "/dev/ttyUSB0 19200 8N1"
std::string place_of(const Node& node) {
    if (!node.line) return node.host + ":" + std::to_string(node.port);
    const char parity = node.line->parity == Parity::none   ? 'N'
                        : node.line->parity == Parity::even ? 'E'
                                                            : 'O';
    return node.line->device + " " + std::to_string(node.line->baud) + " 8" + parity +
           std::to_string(node.line->stop_bits);
}

// The value as the daemon publishes it: a coded reading's name ("battery"), else the value.
std::string value_text(const ModbusAttribute& attribute, const Value& value) {
    if (const auto* code = std::get_if<std::int64_t>(&value)) {
        for (const auto& [state, name] : attribute.meaning.states) {
            if (state == *code) return name + " (" + std::to_string(*code) + ")";
        }
    }
    std::string out;
    append_value_text(value, out);
    return out;
}

std::string table_text(const Node& node, const std::vector<Row>& rows) {
    std::vector<std::array<std::string, 6>> lines = {
        {"ATTRIBUTE", "VALUE", "UNIT", "TABLE", "ADDRESS", "RAW"}};
    const auto& list = node.attributes.list();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const ModbusAttribute& a = list[i];
        const Row& row = rows[i];
        lines.push_back(
            {a.name, row.value ? value_text(a, *row.value) : "-", a.unit, to_string(a.table),
             std::to_string(a.address) + " (" + hex_word(a.address) + ")",
             row.error.empty() ? row.raw : row.raw + (row.raw.empty() ? "" : "  ") + row.error});
    }
    std::array<std::size_t, 6> widths{};
    for (const auto& line : lines) {
        for (std::size_t c = 0; c < 6; ++c) widths[c] = std::max(widths[c], line[c].size());
    }
    std::string out =
        node.id + " (unit " + std::to_string(node.unit) + " at " + place_of(node) + ")\n";
    for (const auto& line : lines) {
        std::string text;
        for (std::size_t c = 0; c < 6; ++c) {
            text += line[c];
            if (c < 5) text += std::string(widths[c] - line[c].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out += text + "\n";
    }
    return out;
}

std::string json_text(const Node& node, const std::vector<Row>& rows) {
    auto quoted = [](const std::string& text) {
        std::string out;
        append_value_json(Value(text), out);
        return out;
    };
    std::string out = "{\"node\":" + quoted(node.id) + ",\"at\":" + quoted(place_of(node)) +
                      ",\"unit\":" + std::to_string(node.unit) + ",\"attributes\":[";
    const auto& list = node.attributes.list();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const ModbusAttribute& a = list[i];
        const Row& row = rows[i];
        if (i > 0) out += ",";
        out += "{\"name\":" + quoted(a.name) + ",\"value\":";
        if (row.value) {
            const auto* code = std::get_if<std::int64_t>(&*row.value);
            bool named = false;
            for (const auto& [state, name] : a.meaning.states) {
                if (code && state == *code) {
                    out += quoted(name);
                    named = true;
                }
            }
            if (!named) append_value_json(*row.value, out);
        } else {
            out += "null";
        }
        out += ",\"unit\":" + quoted(a.unit) + ",\"table\":" + quoted(to_string(a.table)) +
               ",\"address\":" + std::to_string(a.address) + ",\"raw\":" + quoted(row.raw) +
               ",\"error\":" + (row.error.empty() ? std::string("null") : quoted(row.error)) + "}";
    }
    return out + "]}\n";
}

// The node `id` of the config at `path`; nullopt and `error` set (exit code in `code`).
std::optional<Node> node_from_config(const std::string& path, const std::string& id,
                                     const LoadOptions& options, std::string& error, int& code) {
    const LoadResult loaded = load_config(path, options);
    if (!loaded.config) {
        for (const ConfigError& e : loaded.errors) error += e.to_string() + "\n";
        code = kExitConfig;
        return std::nullopt;
    }
    std::vector<std::string> known;
    for (const SourceConfig& source : loaded.config->sources) {
        const auto* modbus_source = std::get_if<ModbusSourceConfig>(&source.settings);
        if (!modbus_source) continue;
        for (const ModbusNode& entry : modbus_source->nodes) {
            known.push_back(entry.id);
            if (entry.id != id) continue;
            Node node;
            node.id = id;
            if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&modbus_source->link)) {
                node.host = tcp->host;
                node.port = tcp->port;
            } else {
                node.line = std::get<SerialLine>(modbus_source->link);
            }
            node.unit = entry.unit;
            node.attributes = entry.attributes;
            node.timeout = modbus_source->timeout;
            node.max_gap = entry.model && entry.model->max_gap ? *entry.model->max_gap
                                                               : modbus_source->max_gap;
            node.max_registers = modbus_source->max_registers;
            if (entry.model && entry.model->max_registers)
                node.max_registers = std::min(node.max_registers, *entry.model->max_registers);
            return node;
        }
    }
    error = "no Modbus node '" + id + "' in " + path;
    if (!known.empty() && known.size() <= 20) {
        error += " (its nodes:";
        for (const auto& name : known) error += " " + name;
        error += ")";
    }
    error += "\n";
    code = kExitUsage;
    return std::nullopt;
}

}  // namespace

int run_read(Args args) {
    std::string error;
    std::optional<std::string> config_path, node_id, model_name;
    std::optional<Target> target;
    std::optional<SerialLine> line;  // read rtu DEVICE
    std::optional<int> baud, stop_bits;
    std::optional<Parity> parity;
    std::optional<int> unit;
    std::optional<Millis> timeout, watch;
    bool json = false;
    LoadOptions load;
    auto usage_error = [&](const std::string& message) {
        std::fprintf(stderr, "nodebridge read: %s\n%s", message.c_str(), kUsage);
        return kExitUsage;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
        if (arg == "--json") {
            json = true;
            continue;
        }
        if (arg == "tcp" && i == 0) {
            if (i + 1 >= args.size()) return usage_error("tcp needs HOST[:PORT]");
            target = parse_target(args[++i], 502, error);
            if (!target) return usage_error(error);
            continue;
        }
        if (arg == "rtu" && i == 0) {
            if (i + 1 >= args.size()) return usage_error("rtu needs DEVICE");
            line = SerialLine{};
            line->device = std::string(args[++i]);
            continue;
        }
        if (!arg.starts_with("-")) {
            if (node_id) return usage_error("more than one NODE given");
            node_id = std::string(arg);
            continue;
        }
        if (i + 1 >= args.size()) return usage_error("missing value of " + std::string(arg));
        const std::string_view value = args[++i];
        if (arg == "-c" || arg == "--config") {
            config_path = std::string(value);
        } else if (arg == "--unit") {
            auto list = parse_unit_list(value, 0, 255, error);
            if (!list || list->size() != 1) return usage_error("--unit: expected one unit 0..255");
            unit = list->front();
        } else if (arg == "--baud") {
            auto list = parse_unit_list(value, 1200, 230400, error);
            if (!list || list->size() != 1) return usage_error("--baud: expected one rate");
            baud = list->front();
        } else if (arg == "--parity") {
            if (value == "none")
                parity = Parity::none;
            else if (value == "even")
                parity = Parity::even;
            else if (value == "odd")
                parity = Parity::odd;
            else
                return usage_error("--parity is none, even or odd");
        } else if (arg == "--stop-bits") {
            if (value != "1" && value != "2") return usage_error("--stop-bits is 1 or 2");
            stop_bits = value == "2" ? 2 : 1;
        } else if (arg == "--model") {
            model_name = std::string(value);
        } else if (arg == "--model-dir") {
            load.model_dirs.emplace_back(value);
        } else if (arg == "--timeout" || arg == "--watch") {
            const auto parsed = parse_millis(value);
            if (!parsed) return usage_error(std::string(arg) + ": expected a duration like 1s");
            (arg == "--watch" ? watch : timeout) = parsed;
        } else {
            return usage_error("unknown option " + std::string(arg));
        }
    }
    if (load.model_dirs.empty()) load.model_dirs = default_model_dirs();

    Node node;
    if ((baud || parity || stop_bits) && !line) {
        return usage_error("--baud, --parity and --stop-bits go with read rtu DEVICE");
    }
    if (target || line) {
        if (config_path || node_id) {
            return usage_error("give either tcp HOST, rtu DEVICE or -c CONFIG NODE");
        }
        if (!unit || !model_name) return usage_error("read needs --unit N and --model NAME");
        const LoadResult loaded = load_models(load);
        if (!loaded.config) {
            for (const ConfigError& e : loaded.errors)
                std::fprintf(stderr, "%s\n", e.to_string().c_str());
            return kExitConfig;
        }
        ModelRef model;
        for (const ModelRef& candidate : loaded.config->models) {
            if (candidate->name == *model_name) model = candidate;
        }
        if (!model || model->attributes.empty()) {
            std::fprintf(stderr,
                         "nodebridge read: no model '%s' with Modbus attributes "
                         "(nodebridged --list-models lists them)\n",
                         model_name->c_str());
            return kExitUsage;
        }
        node.id = model->name + "-" + std::to_string(*unit);
        if (target) {
            node.host = target->host;
            node.port = target->port;
        } else {
            line->baud = baud.value_or(9600);
            line->parity = parity.value_or(Parity::none);
            line->stop_bits = stop_bits.value_or(1);
            node.line = line;
        }
        node.unit = *unit;
        node.attributes = model->attributes;
        node.max_gap = model->max_gap.value_or(0);
        node.max_registers = model->max_registers.value_or(125);
    } else {
        if (!config_path || !node_id) {
            return usage_error("give tcp HOST[:PORT], rtu DEVICE or -c CONFIG NODE");
        }
        int code = kExitUsage;
        auto found = node_from_config(*config_path, *node_id, load, error, code);
        if (!found) {
            std::fprintf(stderr, "nodebridge read: %s", error.c_str());
            return code;
        }
        node = std::move(*found);
    }
    if (timeout) node.timeout = *timeout;

    // The transport: a TCP connection, or the serial line held exclusively (as scan rtu
    // holds it; refused while nodebridged polls it) and restored at the end or on Ctrl-C.
    std::unique_ptr<TcpClient> client;
    std::unique_ptr<RtuPort> port;
    Send send;
    if (node.line) {
        bool busy = false;
        port = RtuPort::open(node.line->device, error, busy);
        if (port &&
            !port->configure(node.line->baud, node.line->parity, node.line->stop_bits, error)) {
            port.reset();
        }
        if (!port) {
            std::fprintf(stderr, "nodebridge read: %s\n", error.c_str());
            return kExitUnreachable;
        }
        struct sigaction action {};
        action.sa_handler = [](int) { RtuPort::interrupt(); };
        sigemptyset(&action.sa_mask);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
        send = [&](std::span<const std::uint8_t> pdu) {
            auto result = port->transact(static_cast<std::uint8_t>(node.unit), pdu, node.timeout);
            using Kind = RtuPort::Result::Kind;
            Answer answer;
            answer.replied = result.kind == Kind::reply;
            answer.pdu = std::move(result.pdu);
            answer.error =
                result.kind == Kind::timeout   ? "no answer within " + human_duration(node.timeout)
                : result.kind == Kind::garbage ? std::string("garbage instead of a reply")
                : result.kind == Kind::interrupted ? std::string("interrupted")
                                                   : result.error;
            return answer;
        };
    } else {
        client = TcpClient::connect(node.host, node.port, node.timeout, error);
        if (!client) {
            std::fprintf(stderr, "nodebridge read: %s\n", error.c_str());
            return kExitUnreachable;
        }
        send = [&](std::span<const std::uint8_t> pdu) {
            auto result = client->transact(static_cast<std::uint8_t>(node.unit), pdu,
                                           TcpClient::Clock::now() + node.timeout);
            Answer answer;
            answer.replied = result.kind == TcpClient::Result::Kind::reply;
            answer.pdu = std::move(result.pdu);
            answer.error = result.kind == TcpClient::Result::Kind::timeout
                               ? "no answer within " + human_duration(node.timeout)
                               : result.error;
            return answer;
        };
    }
    const bool tty = isatty(STDOUT_FILENO) == 1;
    while (true) {
        const auto started = TcpClient::Clock::now();
        const std::vector<Row> rows = read_node(send, node);
        if (port && RtuPort::interrupted()) {
            std::fprintf(stderr, "nodebridge read: interrupted; %s is back at its settings\n",
                         node.line->device.c_str());
            return 130;  // the port's destructor restores its settings
        }
        std::string text = json ? json_text(node, rows) : table_text(node, rows);
        // --watch on a terminal: redraw in place (cursor home, clear below).
        if (watch && tty && !json) text = "\033[H\033[J" + text;
        std::fputs(text.c_str(), stdout);
        std::fflush(stdout);
        if (!watch) {
            const bool any = std::any_of(rows.begin(), rows.end(),
                                         [](const Row& row) { return row.value.has_value(); });
            return any || rows.empty() ? kExitOk : kExitNothing;
        }
        if (!tty && !json) std::fputs("\n", stdout);
        // In steps, so Ctrl-C on a serial line ends the wait (and the port is restored).
        while (TcpClient::Clock::now() < started + *watch && !RtuPort::interrupted()) {
            std::this_thread::sleep_for(std::min<TcpClient::Clock::duration>(
                started + *watch - TcpClient::Clock::now(), std::chrono::milliseconds(50)));
        }
    }
}

}  // namespace nodebridge::cli
