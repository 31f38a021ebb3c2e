#pragma once
// Logging into systemd's journal with structured fields, and the choice between the journal
// and plain stderr lines.
//
// Under systemd (stderr is the journal stream), lines go natively through sd_journal_sendv
// with PRIORITY, MESSAGE, SYSLOG_IDENTIFIER and the NODEBRIDGE_* fields of the LogContext,
// so `journalctl -u nodebridge NODEBRIDGE_NODE=pdu-1` finds one node's lines. Everywhere else
// the readable StderrLogger is used.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/log.hpp"

namespace nodebridge::systemd {

// The identifier journald files lines under (`journalctl -t nodebridged`).
inline constexpr std::string_view kSyslogIdentifier = "nodebridged";

// Longest field value sent, in bytes; longer values (messages, hostile node names) are cut.
inline constexpr std::size_t kMaxFieldValue = 16 * 1024;

// The journal fields for one line, each "KEY=value", in this order: PRIORITY (the syslog
// number of `level`), MESSAGE, SYSLOG_IDENTIFIER, then NODEBRIDGE_SOURCE, NODEBRIDGE_NODE,
// NODEBRIDGE_TOPIC and NODEBRIDGE_EVENT for the context fields that are not empty. Values
// are kept as they are (the native protocol carries newlines), cut at kMaxFieldValue bytes.
std::vector<std::string> journal_fields(LogLevel level, std::string_view message,
                                        const LogContext& context,
                                        std::string_view identifier = kSyslogIdentifier);

// Writes every line to the journal's native socket (/run/systemd/journal/socket) with the
// fields of journal_fields(). When the journal refuses a line (journald gone, socket full),
// the line goes to stderr in StderrLogger's format instead. (libsystemd drops lines
// silently when the socket file does not exist at all; make_logger() only picks this logger
// when systemd gave us a journal stream.)
class JournalLogger final : public Logger {
  public:
    explicit JournalLogger(LogLevel threshold,
                           std::string identifier = std::string(kSyslogIdentifier),
                           std::function<Clock::time_point()> clock = Clock::now);

  protected:
    void write(LogLevel level, std::string_view message, const LogContext& context) override;

  private:
    std::string identifier_;
    StderrLogger fallback_;
};

// True when `journal_stream` (the value of $JOURNAL_STREAM, "DEVICE:INODE" in decimal, or
// nullptr when unset) names the file behind `fd`, i.e. systemd connected that fd to the
// journal. False when unset, malformed, when fd cannot be stat'ed, or when it names
// another file (e.g. stderr was redirected after systemd started us).
bool is_journal_stream(const char* journal_stream, int fd);

// A JournalLogger when stderr is the journal (per $JOURNAL_STREAM, as sd_journal_stream_fd(3)
// describes), else a StderrLogger. Never returns null.
std::unique_ptr<Logger> make_logger(LogLevel threshold);

}  // namespace nodebridge::systemd
