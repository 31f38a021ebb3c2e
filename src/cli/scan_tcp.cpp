// nodebridge scan tcp HOST[:PORT]: which unit ids answer on a Modbus TCP endpoint, their
// round trip, their Read Device Identification, the library models that fit, and a YAML block
// to paste (docs/man/nodebridge.1).
//
// A unit is present when it answers the probe (read one holding register at 0) with anything
// but a gateway's "no answer from the device" (exceptions 0x0A and 0x0B, MODBUS Application
// Protocol Specification V1.1b3, section 7): an exception reply counts, since the device had
// to be there to refuse. Every request is bounded by --timeout, so the whole scan is bounded
// by what it prints before it starts.

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <map>

#include "cli.hpp"
#include "decode.hpp"
#include "device_id.hpp"
#include "identify.hpp"
#include "mbap.hpp"
#include "nodebridge/config.hpp"
#include "paste_yaml.hpp"
#include "tcp_client.hpp"

namespace nodebridge::cli {
namespace {

constexpr const char* kUsage =
    "usage: nodebridge scan tcp HOST[:PORT] [--units 1-247] [--timeout 200ms] [--model-dir DIR]\n"
    "                           [--name NAME]\n";

constexpr std::uint8_t kGatewayPathUnavailable = 0x0A;  // APP V1.1b3 section 7
constexpr std::uint8_t kGatewayTargetFailed = 0x0B;
constexpr std::size_t kTrustCheckUnits = 16;  // a scan this wide where all answer is suspect

using Clock = TcpClient::Clock;

struct Unit {
    int unit = 0;
    std::chrono::microseconds rtt{0};
    std::string probe;  // "a register", "exception 2 (Illegal data address)"
    std::string identification;
    std::vector<Candidate> candidates;
};

// "illegal data address (exception 2)"
std::string exception_name(std::uint8_t code) {
    std::string text(modbus::mbap::exception_text(code));
    if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text + " (exception " + std::to_string(code) + ")";
}

// What function 43 said, for people; `reply` set when it gave objects.
std::string identification_text(TcpClient::Result& result,
                                std::optional<modbus::device_id::Reply>& reply) {
    using Kind = TcpClient::Result::Kind;
    if (result.kind == Kind::timeout) return "no answer to function 43";
    if (result.kind == Kind::closed) return "function 43 failed: " + result.error;
    modbus::device_id::Reply decoded;
    std::uint8_t code = 0;
    const auto status = modbus::device_id::decode_reply(result.pdu, decoded, code);
    if (status == modbus::device_id::Status::exception) {
        return "not supported: " + exception_name(code);
    }
    if (status != modbus::device_id::Status::ok) {
        return "function 43 reply is " + std::string(modbus::device_id::to_string(status));
    }
    std::string text;
    for (const auto& [id, value] : decoded.objects) {
        const char* name = id == 0   ? "vendor"
                           : id == 1 ? "product"
                           : id == 2 ? "revision"
                                     : nullptr;
        if (!text.empty()) text += ", ";
        text += (name ? std::string(name) : "object " + std::to_string(id)) + " '" +
                modbus::sanitize_text(value) + "'";
    }
    reply = std::move(decoded);
    return text.empty() ? "no objects" : text;
}

}  // namespace

int run_scan_tcp(Args args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? kExitUsage : kExitOk;
    }
    std::string error;
    const auto target = parse_target(args[0], 502, error);
    if (!target) {
        std::fprintf(stderr, "nodebridge scan tcp: %s\n", error.c_str());
        return kExitUsage;
    }
    std::vector<int> units;
    for (int unit = 1; unit <= 247; ++unit) units.push_back(unit);
    Millis timeout{200};
    LoadOptions load;
    std::string name = source_name_for(target->host);
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view option = args[i];
        if (option == "--help" || option == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
        if (i + 1 >= args.size()) {
            std::fprintf(stderr, "nodebridge scan tcp: unknown option or missing value: %.*s\n%s",
                         static_cast<int>(option.size()), option.data(), kUsage);
            return kExitUsage;
        }
        const std::string_view value = args[++i];
        if (option == "--units") {
            auto list = parse_unit_list(value, 0, 255, error);
            if (!list) {
                std::fprintf(stderr, "nodebridge scan tcp: %s\n", error.c_str());
                return kExitUsage;
            }
            units = std::move(*list);
        } else if (option == "--timeout") {
            const auto parsed = parse_millis(value);
            if (!parsed || *parsed > Millis(60000)) {
                std::fprintf(stderr,
                             "nodebridge scan tcp: --timeout: expected a duration like 200ms "
                             "(1ms..60s), got '%.*s'\n",
                             static_cast<int>(value.size()), value.data());
                return kExitUsage;
            }
            timeout = *parsed;
        } else if (option == "--model-dir") {
            load.model_dirs.emplace_back(value);
        } else if (option == "--name") {
            name = std::string(value);
        } else {
            std::fprintf(stderr, "nodebridge scan tcp: unknown option %.*s\n%s",
                         static_cast<int>(option.size()), option.data(), kUsage);
            return kExitUsage;
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

    using std::chrono::microseconds;
    const microseconds per_request = timeout;
    const microseconds probe_bound = per_request * static_cast<long>(units.size() + 1);
    const microseconds unit_bound = per_request * static_cast<long>(1 + reads);
    std::printf("scanning %s:%d, units %s, %s per request\n", target->host.c_str(), target->port,
                unit_ranges(units).c_str(), human_duration(per_request).c_str());
    std::printf(
        "worst case: %s to connect and probe %zu units, plus %s per unit that answers "
        "(function 43 and %zu identification registers of %zu models)\n",
        human_duration(probe_bound).c_str(), units.size(), human_duration(unit_bound).c_str(),
        reads, models.size());
    std::fflush(stdout);

    auto client = TcpClient::connect(target->host, target->port, timeout, error);
    if (!client) {
        std::fprintf(stderr, "nodebridge scan tcp: %s\n", error.c_str());
        return kExitUnreachable;
    }
    const bool progress = isatty(STDERR_FILENO) == 1;
    const std::vector<std::uint8_t> probe = {modbus::mbap::kReadHoldingRegisters, 0, 0, 0, 1};
    std::vector<Unit> found;
    std::size_t echoes = 0;
    std::string last_failure;
    for (std::size_t i = 0; i < units.size(); ++i) {
        const int unit = units[i];
        if (progress) {
            std::fprintf(stderr, "\rprobing unit %d (%zu of %zu, %zu answered)   ", unit, i + 1,
                         units.size(), found.size());
        }
        auto result =
            client->transact(static_cast<std::uint8_t>(unit), probe, Clock::now() + timeout);
        if (result.kind == TcpClient::Result::Kind::closed) {
            last_failure = result.error;
            continue;
        }
        if (result.kind != TcpClient::Result::Kind::reply) continue;
        if (result.pdu == probe) {
            ++echoes;
            continue;
        }
        Unit entry;
        entry.unit = unit;
        entry.rtt = result.rtt;
        if (!result.pdu.empty() && (result.pdu[0] & modbus::mbap::kExceptionFlag) &&
            result.pdu.size() == 2) {
            const std::uint8_t code = result.pdu[1];
            if (code == kGatewayPathUnavailable || code == kGatewayTargetFailed) continue;
            entry.probe = "replied " + exception_name(code);
        } else {
            entry.probe = "replied with a register";
        }
        found.push_back(std::move(entry));
    }
    if (progress) std::fprintf(stderr, "\r%60s\r", "");

    if (echoes > 0) {
        std::fprintf(stderr,
                     "nodebridge scan tcp: %s:%d sends requests back unchanged (%zu of %zu units): "
                     "an echo, not a Modbus device; nothing it answers can be trusted\n",
                     target->host.c_str(), target->port, echoes, units.size());
        return kExitUntrusted;
    }
    if (units.size() >= kTrustCheckUnits && found.size() == units.size()) {
        std::fprintf(stderr,
                     "nodebridge scan tcp: every unit id %s answered: %s:%d answers for any unit "
                     "id (a gateway that does not pass on the id, or one device answering all); "
                     "scan one unit with --units N, or check the gateway's settings\n",
                     unit_ranges(units).c_str(), target->host.c_str(), target->port);
        return kExitUntrusted;
    }
    if (found.empty()) {
        std::printf("no unit answered%s%s\n",
                    last_failure.empty() ? "" : "; last failure: ", last_failure.c_str());
        return kExitNothing;
    }

    std::vector<FoundUnit> pasted;
    for (Unit& entry : found) {
        const auto unit = static_cast<std::uint8_t>(entry.unit);
        auto id_result =
            client->transact(unit, modbus::device_id::encode_request(), Clock::now() + timeout);
        std::optional<modbus::device_id::Reply> id;
        entry.identification = identification_text(id_result, id);
        const ReadRegister read = [&](const IdentifyRegister& reg) {
            RegisterAnswer answer;
            const std::uint16_t width = register_width(reg);
            std::vector<std::uint8_t> pdu = {
                modbus::mbap::read_function(reg.table), static_cast<std::uint8_t>(reg.address >> 8),
                static_cast<std::uint8_t>(reg.address & 0xFF), 0, static_cast<std::uint8_t>(width)};
            auto result = client->transact(unit, pdu, Clock::now() + timeout);
            if (result.kind != TcpClient::Result::Kind::reply) {
                answer.error =
                    result.kind == TcpClient::Result::Kind::timeout ? "no answer" : result.error;
                return answer;
            }
            std::vector<std::uint16_t> words;
            std::vector<std::uint8_t> bits;
            std::uint8_t code = 0;
            const auto status =
                modbus::mbap::decode_read_reply(reg.table, width, result.pdu, words, bits, code);
            if (status == modbus::mbap::ReplyStatus::ok) {
                answer.words = std::move(words);
            } else if (status == modbus::mbap::ReplyStatus::exception) {
                answer.error = exception_name(code);
            } else {
                answer.error = std::string(modbus::mbap::to_string(status));
            }
            return answer;
        };
        entry.candidates = match_models(models, id, read);
        pasted.push_back(
            {entry.unit, entry.candidates.empty() ? "" : entry.candidates.front().model->name});
    }

    for (const Unit& entry : found) {
        std::printf("\nunit %d: answered in %s, %s\n", entry.unit,
                    human_duration(entry.rtt).c_str(), entry.probe.c_str());
        std::printf("  identification: %s\n", entry.identification.c_str());
        if (entry.candidates.empty()) {
            std::printf("  model: unknown (no library model's identify: fits)\n");
            continue;
        }
        std::printf("  model%s, best first:\n", entry.candidates.size() > 1 ? "s" : "");
        for (const Candidate& candidate : entry.candidates) {
            std::string evidence;
            for (const std::string& line : candidate.evidence)
                evidence += (evidence.empty() ? "" : "; ") + line;
            std::printf("    %s: %s\n", candidate.model->name.c_str(), evidence.c_str());
        }
    }
    std::vector<int> answered;
    for (const Unit& entry : found) answered.push_back(entry.unit);
    std::printf("\n%zu of %zu units answered: %s\n", found.size(), units.size(),
                unit_ranges(answered).c_str());
    std::printf(
        "\n# For /etc/nodebridge/conf.d/%s.yaml; check it with nodebridged --check-config, then "
        "systemctl reload nodebridge.\n",
        name.c_str());
    const std::vector<std::string> source_lines = {"type: modbus-tcp", "host: " + target->host,
                                                   "port: " + std::to_string(target->port)};
    std::fputs(paste_yaml(name, source_lines, pasted).c_str(), stdout);
    return kExitOk;
}

}  // namespace nodebridge::cli
