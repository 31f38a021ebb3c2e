#include "journal_logger.hpp"

#define SD_JOURNAL_SUPPRESS_LOCATION  // CODE_FILE= would always name this file: no use
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace nodebridge::systemd {
namespace {

void add_field(std::vector<std::string>& fields, std::string_view key, std::string_view value) {
    if (value.size() > kMaxFieldValue) value = value.substr(0, kMaxFieldValue);
    std::string field;
    field.reserve(key.size() + 1 + value.size());
    field += key;
    field += '=';
    field += value;
    fields.push_back(std::move(field));
}

// Parses a whole decimal unsigned number; false on anything else (sign, spaces, overflow).
bool parse_decimal(std::string_view text, std::uintmax_t& value) {
    if (text.empty()) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::vector<std::string> journal_fields(LogLevel level, std::string_view message,
                                        const LogContext& context, std::string_view identifier) {
    std::vector<std::string> fields;
    fields.reserve(7);
    add_field(fields, "PRIORITY", std::to_string(static_cast<int>(level)));
    add_field(fields, "MESSAGE", message);
    add_field(fields, "SYSLOG_IDENTIFIER", identifier);
    if (!context.source.empty()) add_field(fields, "NODEBRIDGE_SOURCE", context.source);
    if (!context.node.empty()) add_field(fields, "NODEBRIDGE_NODE", context.node);
    if (!context.topic.empty()) add_field(fields, "NODEBRIDGE_TOPIC", context.topic);
    if (!context.event.empty()) add_field(fields, "NODEBRIDGE_EVENT", context.event);
    return fields;
}

JournalLogger::JournalLogger(LogLevel threshold, std::string identifier,
                             std::function<Clock::time_point()> clock)
    : Logger(threshold, std::move(clock)),
      identifier_(std::move(identifier)),
      fallback_(LogLevel::debug) {}

void JournalLogger::write(LogLevel level, std::string_view message, const LogContext& context) {
    const std::vector<std::string> fields = journal_fields(level, message, context, identifier_);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const std::string& field : fields) {
        iov.push_back(iovec{const_cast<char*>(field.data()), field.size()});
    }
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
        fallback_.log(level, message, context);
    }
}

bool is_journal_stream(const char* journal_stream, int fd) {
    if (journal_stream == nullptr) return false;
    const std::string_view text(journal_stream);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    std::uintmax_t device = 0;
    std::uintmax_t inode = 0;
    if (!parse_decimal(text.substr(0, colon), device) ||
        !parse_decimal(text.substr(colon + 1), inode)) {
        return false;
    }
    struct stat info {};
    if (fstat(fd, &info) != 0) return false;
    return static_cast<std::uintmax_t>(info.st_dev) == device &&
           static_cast<std::uintmax_t>(info.st_ino) == inode;
}

std::unique_ptr<Logger> make_logger(LogLevel threshold) {
    if (is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
        return std::make_unique<JournalLogger>(threshold);
    }
    return std::make_unique<StderrLogger>(threshold);
}

}  // namespace nodebridge::systemd
