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
#include "scan_report.hpp"
#include "tcp_client.hpp"

namespace nodebridge::cli {
namespace {

constexpr const char* kUsage =
    "usage: nodebridge scan tcp HOST[:PORT] [--units 1-247] [--timeout 200ms] [--model-dir DIR]\n"
    "                           [--name NAME]\n";

constexpr std::size_t kTrustCheckUnits = 16;  // a scan this wide where all answer is suspect

using Clock = TcpClient::Clock;

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
    const std::vector<std::uint8_t> probe = probe_pdu();
    std::vector<ScannedUnit> found;
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
        ScannedUnit entry;
        entry.unit = unit;
        entry.rtt = result.rtt;
        if (present(result.pdu, entry)) found.push_back(std::move(entry));
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
    for (ScannedUnit& entry : found) {
        const auto unit = static_cast<std::uint8_t>(entry.unit);
        const Send send = [&](std::span<const std::uint8_t> pdu) {
            auto result = client->transact(unit, pdu, Clock::now() + timeout);
            Answer answer;
            answer.replied = result.kind == TcpClient::Result::Kind::reply;
            answer.pdu = std::move(result.pdu);
            answer.error =
                result.kind == TcpClient::Result::Kind::timeout ? "no answer" : result.error;
            return answer;
        };
        identify_unit(entry, models, send);
        pasted.push_back(
            {entry.unit, entry.candidates.empty() ? "" : entry.candidates.front().model->name});
    }
    print_units(found, units.size());
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
