// libFuzzer target for the spool's record reader: the input is read as a run of records by
// decode_record(), in both record layouts (NBSPOOL2 and the older NBSPOOL1), and as the
// records of a segment file of each layout that Spool::open() recovers and hands out. Traps
// when a result breaks the reader's contract; ASan/UBSan catch reads out of bounds. Seeds in
// tests/fuzz/seeds/spool: v2-* are NBSPOOL2 records (with rules), v1-* NBSPOOL1 records.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "spool.hpp"

namespace {

class NullLogger final : public nodebridge::Logger {
  public:
    NullLogger() : Logger(nodebridge::LogLevel::debug) {}

  protected:
    void write(nodebridge::LogLevel, std::string_view, const nodebridge::LogContext&) override {}
};

// A scratch directory for the whole run (in /dev/shm when there is one: no disk waits),
// removed at exit. A plain array, so it outlives every static destructor.
char scratch_dir[64];

const char* scratch() {
    if (scratch_dir[0] == '\0') {
        std::snprintf(scratch_dir, sizeof scratch_dir, "%s",
                      access("/dev/shm", W_OK) == 0 ? "/dev/shm/spool-fuzz-XXXXXX"
                                                    : "/tmp/spool-fuzz-XXXXXX");
        if (mkdtemp(scratch_dir) == nullptr) __builtin_trap();
        std::atexit([] {
            for (const char* name : {"/spool/0000000000000000.seg", "/spool"}) {
                const std::string path = std::string(scratch_dir) + name;
                if (unlink(path.c_str()) != 0) rmdir(path.c_str());
            }
            rmdir(scratch_dir);
        });
    }
    return scratch_dir;
}

void check_record(const nodebridge::SpoolRecord& record) {
    if (record.message.qos < 0 || record.message.qos > 2) __builtin_trap();
    if (record.message.topic.empty() || record.message.topic.size() > 65'535) __builtin_trap();
    if (record.message.rule.size() > 65'535) __builtin_trap();
}

// The codec over `bytes`, record after record in `format`, as recovery walks a segment.
void decode_all(std::string_view bytes, nodebridge::RecordFormat format) {
    using namespace nodebridge;
    const std::size_t fixed = format == RecordFormat::v2 ? kRecordFixedBody : kRecordFixedBodyV1;
    std::size_t offset = 0;
    SpoolRecord record;
    while (offset < bytes.size()) {
        std::size_t consumed = 0;
        if (decode_record(bytes.substr(offset), record, consumed, format) != RecordStatus::ok) {
            break;
        }
        if (consumed < kRecordHeaderBytes + fixed || consumed > bytes.size() - offset) {
            __builtin_trap();
        }
        check_record(record);
        if (format == RecordFormat::v1 && !record.message.rule.empty()) __builtin_trap();
        // What decodes must encode to the same bytes.
        std::string again;
        encode_record(record, again, format);
        if (again != bytes.substr(offset, consumed)) __builtin_trap();
        offset += consumed;
    }
}

// The same bytes as the records of a segment file that starts with `magic`, recovered by a
// Spool and handed out to the end.
void recover_segment(std::string_view bytes, std::string_view magic) {
    using namespace nodebridge;
    const std::string dir = std::string(scratch()) + "/spool";
    const std::string segment = dir + "/0000000000000000.seg";
    mkdir(dir.c_str(), 0700);
    unlink((dir + "/acked").c_str());
    const int fd = open(segment.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) __builtin_trap();
    std::string file(magic);
    file.append(bytes);
    if (write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size())) __builtin_trap();
    close(fd);
    NullLogger log;
    auto spool = Spool::open(SpoolOptions{.dir = dir}, log);
    if (!spool) __builtin_trap();
    std::uint64_t handed = 0;
    while (auto next = spool->next(0)) {
        check_record(*next);
        if (magic == kSegmentMagicV1 && !next->message.rule.empty()) __builtin_trap();
        spool->acknowledge(next->sequence);
        ++handed;
    }
    const auto counters = spool->counters();
    if (handed != counters.recovered || counters.records != 0) __builtin_trap();
    spool.reset();
    // Leave an empty directory for the next input.
    for (const char* name : {"/acked", "/acked.tmp", "/lock", "/0000000000000000.seg"}) {
        unlink((dir + name).c_str());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nodebridge;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    // 1. The codec, in both layouts.
    decode_all(bytes, RecordFormat::v2);
    decode_all(bytes, RecordFormat::v1);
    // 2. The same bytes as a segment of each layout that a Spool recovers.
    recover_segment(bytes, kSegmentMagic);
    recover_segment(bytes, kSegmentMagicV1);
    return 0;
}
