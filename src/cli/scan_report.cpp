// What both scans share once a unit has answered (scan_report.hpp).

#include "scan_report.hpp"

#include <cctype>
#include <cstdio>

#include "cli.hpp"
#include "decode.hpp"
#include "device_id.hpp"
#include "mbap.hpp"

namespace nodebridge::cli {
namespace {

constexpr std::uint8_t kGatewayPathUnavailable = 0x0A;  // APP V1.1b3 section 7
constexpr std::uint8_t kGatewayTargetFailed = 0x0B;

std::string identification_text(const Answer& answer,
                                std::optional<modbus::device_id::Reply>& reply) {
    if (!answer.replied) return "function 43: " + answer.error;
    modbus::device_id::Reply decoded;
    std::uint8_t code = 0;
    const auto status = modbus::device_id::decode_reply(answer.pdu, decoded, code);
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

std::string exception_name(std::uint8_t code) {
    std::string text(modbus::mbap::exception_text(code));
    if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text + " (exception " + std::to_string(code) + ")";
}

std::vector<std::uint8_t> probe_pdu() { return {modbus::mbap::kReadHoldingRegisters, 0, 0, 0, 1}; }

bool present(const std::vector<std::uint8_t>& reply, ScannedUnit& unit) {
    if (reply.size() == 2 && (reply[0] & modbus::mbap::kExceptionFlag)) {
        if (reply[1] == kGatewayPathUnavailable || reply[1] == kGatewayTargetFailed) return false;
        unit.probe = "replied " + exception_name(reply[1]);
    } else {
        unit.probe = "replied with a register";
    }
    return true;
}

void identify_unit(ScannedUnit& unit, const std::vector<ModelRef>& models, const Send& send) {
    std::optional<modbus::device_id::Reply> id;
    unit.identification = identification_text(send(modbus::device_id::encode_request()), id);
    const ReadRegister read = [&](const IdentifyRegister& reg) {
        RegisterAnswer answer;
        const std::uint16_t width = register_width(reg);
        const std::vector<std::uint8_t> pdu = {
            modbus::mbap::read_function(reg.table), static_cast<std::uint8_t>(reg.address >> 8),
            static_cast<std::uint8_t>(reg.address & 0xFF), 0, static_cast<std::uint8_t>(width)};
        const Answer reply = send(pdu);
        if (!reply.replied) {
            answer.error = reply.error;
            return answer;
        }
        std::vector<std::uint16_t> words;
        std::vector<std::uint8_t> bits;
        std::uint8_t code = 0;
        const auto status =
            modbus::mbap::decode_read_reply(reg.table, width, reply.pdu, words, bits, code);
        if (status == modbus::mbap::ReplyStatus::ok) {
            answer.words = std::move(words);
        } else if (status == modbus::mbap::ReplyStatus::exception) {
            answer.error = exception_name(code);
        } else {
            answer.error = std::string(modbus::mbap::to_string(status));
        }
        return answer;
    };
    unit.candidates = match_models(models, id, read);
}

void print_units(const std::vector<ScannedUnit>& found, std::size_t scanned) {
    for (const ScannedUnit& entry : found) {
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
    for (const ScannedUnit& entry : found) answered.push_back(entry.unit);
    std::printf("\n%zu of %zu units answered: %s\n", found.size(), scanned,
                unit_ranges(answered).c_str());
}

}  // namespace nodebridge::cli
