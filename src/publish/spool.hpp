#pragma once
// The disk spool: QoS 1/2 messages accepted by the Publisher and not yet acknowledged by the
// broker, kept in append-only segment files so they survive outages and restarts.
//
// On disk, in `dir`:
//   <16 hex digits>.seg  a segment: the 8-byte magic "NBSPOOL2" (or "NBSPOOL1", written by
//                        older versions and still read), then records; the name is the
//                        sequence number of its first record
//   acked                the ack floor: every record with a smaller sequence number is done
//   lock                 flock()ed while a Spool has the directory open
// A record is [u32 length][u32 crc32][body], little-endian, where the crc covers the body.
// In an NBSPOOL2 segment the body is
//   [u64 sequence][i64 unix time ms][u8 qos][u8 retain][u16 topic length][u16 rule length]
//   [topic][rule][payload]
// and in an NBSPOOL1 segment the same without the rule length and the rule (read back with
// an empty rule). Sequence numbers grow by one per record, so a segment holds a contiguous
// range. New segments are always NBSPOOL2.
//
// Writing: the segment being written has its blocks reserved up front (posix_fallocate of
// segment_bytes) and is mapped MAP_SHARED; an append copies the record into the mapping, so
// it is in the page cache (it survives the process being killed) without a system call, and
// sync() makes it durable. Each MiB appended starts its disk writes (sync_file_range) so a
// sync finds little left to wait for. When the reservation or the mapping fails, appends use
// pwrite(). A segment no longer written is cut to its used size; at recovery the zero tail a
// killed writer leaves is a clean end, not damage.
//
// Thread-safe. Appends are serialized by an append lock and copy the record outside the
// state lock that next(), acknowledge() and counters() take, so the network thread never
// waits for an append; sync() does its fdatasync() calls outside both, so appends never
// wait for the disk either.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"

namespace nodebridge {

// ---- the record codec (pure; fuzzed by tests/fuzz/spool_fuzz.cpp) --------------------------

struct SpoolRecord {
    std::uint64_t sequence = 0;
    std::int64_t time_ms = 0;  // unix time in ms when the message was accepted
    Message message;
};

enum class RecordStatus {
    ok,
    truncated,     // fewer bytes than the record needs (a write cut short)
    bad_length,    // the length field is impossible
    bad_checksum,  // the body does not match its crc32
    bad_fields,    // the checksum holds but the fields are invalid (qos, topic or rule length)
};

// The two record layouts; a segment's magic says which one its records use.
enum class RecordFormat : std::uint8_t {
    v1 = 1,  // "NBSPOOL1": no rule
    v2 = 2,  // "NBSPOOL2": the rule name after the topic; what encode_record() writes
};

inline constexpr std::size_t kRecordHeaderBytes = 8;  // length + crc32
// sequence, time, qos, retain, topic length, rule length
inline constexpr std::size_t kRecordFixedBody = 22;
// sequence, time, qos, retain, topic length (NBSPOOL1 segments)
inline constexpr std::size_t kRecordFixedBodyV1 = 20;
// The largest body a record may have: an MQTT packet's limit.
inline constexpr std::size_t kMaxRecordBody = 268'435'455;
// The longest topic and rule name a record can hold (u16 length fields).
inline constexpr std::size_t kMaxRecordTopic = 65'535;
inline constexpr std::size_t kMaxRecordRule = 65'535;
inline constexpr std::string_view kSegmentMagic{"NBSPOOL2", 8};    // what new segments start with
inline constexpr std::string_view kSegmentMagicV1{"NBSPOOL1", 8};  // older segments, still read

// CRC-32 (IEEE 802.3, as zlib computes it) of `bytes`.
std::uint32_t spool_crc32(std::string_view bytes);

// Appends the encoding of `record` to `out` in `format` (v1 leaves the rule out). The
// caller keeps the topic and the rule within kMaxRecordTopic and kMaxRecordRule bytes.
void encode_record(const SpoolRecord& record, std::string& out,
                   RecordFormat format = RecordFormat::v2);

// Decodes the record at the start of `bytes`, laid out as `format` says. On ok, fills `out`
// (rule empty for v1) and sets `consumed` to the record's size; otherwise leaves both
// meaningless and says what is wrong. Never reads past `bytes`, whatever they hold.
RecordStatus decode_record(std::string_view bytes, SpoolRecord& out, std::size_t& consumed,
                           RecordFormat format = RecordFormat::v2);

std::string_view to_string(RecordStatus status);

// ---- the spool -------------------------------------------------------------------------

// Why this process could not use `dir` as its spool, without changing anything: the
// directory exists and it may not write in it or one of its files, or it is missing and its
// nearest existing parent does not let it be created. nullopt when it looks usable (or `dir`
// is empty: no spool). `nodebridged --check-config` (the unit's ExecStartPre, run as the
// service user) warns with it.
std::optional<std::string> spool_dir_problem(const std::string& dir);

// What to do about it, for this process's user: "give the directory and its files to user
// nodebridge (chown -R nodebridge: '/var/lib/nodebridge/spool'; docs/operations.md, ...)".
std::string spool_remedy(const std::string& dir);

struct SpoolOptions {
    std::string dir;
    std::uint64_t max_bytes = 256ull << 20;  // every segment file together, at most
    Millis max_age{0};                       // 0 = records never expire
    SpoolOnFull on_full = SpoolOnFull::drop_oldest;
    std::uint64_t segment_bytes = 0;  // a segment is closed past this; 0 = max_bytes / 16,
                                      // between 64 KiB and 8 MiB
};

struct SpoolCounters {
    std::uint64_t records = 0;          // records not yet acknowledged (nor dropped)
    std::uint64_t unsent = 0;           // of those, not yet handed out by next()
    std::uint64_t bytes = 0;            // size of the segment files
    std::uint64_t segments = 0;         // segment files
    std::uint64_t dropped_full = 0;     // records dropped by the on_full policy
    std::uint64_t dropped_expired = 0;  // records dropped for being older than max_age
    std::uint64_t recovered = 0;        // records found unacknowledged at open
    std::uint64_t lost = 0;             // records known lost to a damaged file at open
    std::uint64_t write_errors = 0;     // appends that failed (disk full, I/O error)
};


class Spool {
  public:
    // Creates `options.dir` if needed, locks it, and recovers what is there: every segment is
    // read up to its first bad record (bad length, checksum mismatch, truncation); what was
    // recovered and lost is logged. Returns nullptr when the directory cannot be created,
    // written or locked (another process uses it), after logging why at error level with the
    // remedy, and sets `*failure` (when given) to the short reason, e.g. "cannot write in
    // '/var/lib/nodebridge/spool': Permission denied". Never throws.
    static std::unique_ptr<Spool> open(const SpoolOptions& options, Logger& log,
                                       std::string* failure = nullptr);
    // Syncs and closes.
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    enum class Append {
        stored,   // written to the segment file (in the page cache; sync() makes it durable)
        refused,  // the spool is full and on_full is drop_newest (counted in dropped_full)
        failed,   // the write failed (counted in write_errors); the spool is unchanged
    };
    // Writes `message` as a new record stamped `now_ms`. With drop_oldest, a full spool first
    // drops whole segments, oldest first, counting their records in dropped_full.
    Append append(const Message& message, std::int64_t now_ms);

    // The oldest record not yet handed out, acknowledged or dropped; nullopt when there is
    // none. Records older than max_age at `now_ms` are skipped and counted as expired.
    std::optional<SpoolRecord> next(std::int64_t now_ms);

    // Marks `sequence` as done (acknowledged by the broker, or refused for good). Segments
    // whose records are all done are deleted. Unknown or repeated sequences are ignored.
    void acknowledge(std::uint64_t sequence);

    // Drops segments whose newest record is older than max_age (counted as expired).
    void expire(std::int64_t now_ms);

    // Makes every stored record and the ack floor durable: fdatasync() of the segments
    // written since the last sync, and the acked file rewritten when the floor moved.
    void sync();
    // True when sync() has something to do.
    bool needs_sync() const;

    SpoolCounters counters() const;
    const std::string& dir() const { return options_.dir; }

    // Why the directory cannot be written now, e.g. "cannot create a segment in
    // '/var/lib/nodebridge/spool': Permission denied"; "" while it can. Set when creating a
    // segment, writing the ack floor or removing a finished segment fails (the directory was
    // made read-only, unwritable or immutable, or its filesystem is full of inodes). Meanwhile
    // appends still go to the segment already open, durable, until it is full; then they
    // fail (Append::failed) and the Publisher keeps those messages in memory only; the ack
    // floor is not recorded, so a restart sends acknowledged messages again; finished
    // segments stay on disk. Each sync() then tries the directory again and clears the
    // problem once it can write there.
    std::string problem() const;

  private:
    struct Segment {
        std::string path;
        std::uint64_t first = 0;    // sequence of the first record (valid when records > 0)
        std::uint64_t last = 0;     // sequence of the last record
        std::uint64_t records = 0;  // == last - first + 1 when > 0
        std::uint64_t end = 0;      // bytes of valid data: where the next record would go
        std::int64_t newest_ms = 0;
        RecordFormat format = RecordFormat::v2;  // from the magic; only recovered ones are v1
    };

    Spool(const SpoolOptions& options, Logger& log, int lock_fd);
    void recover();
    bool open_active();
    void rotate();
    void unmap_active();
    void drop_front_segment(std::uint64_t& counter);
    std::uint64_t undone_in(const Segment& segment) const;
    void advance_floor();
    void delete_done_segments();
    void close_reader();
    void fill_buffer(std::uint64_t offset, std::size_t size);
    RecordStatus read_at(const Segment& segment, std::uint64_t offset, SpoolRecord& out,
                         std::size_t& consumed);
    std::optional<std::uint64_t> read_ack_floor() const;
    void warn(std::string_view cause, const std::string& text);
    void remove_file(const std::string& path);  // under mutex_; a failure sets problem_

    const SpoolOptions options_;
    Logger& log_;
    const int lock_fd_;

    // Lock order: append_mutex_, then mutex_. append_mutex_ serializes appends (and guards
    // append_buffer_); mutex_ guards the state below. active_fd_, the active segment and
    // next_sequence_ change only with both held.
    std::mutex append_mutex_;
    std::string append_buffer_;  // the record being appended
    mutable std::mutex mutex_;
    std::deque<Segment> segments_;       // oldest first
    int active_fd_ = -1;                 // open for appending to segments_.back(), or -1
    char* active_map_ = nullptr;         // its shared mapping, or null: appends use pwrite()
    std::uint64_t active_capacity_ = 0;  // bytes mapped (the file's preallocated size)
    std::uint64_t written_behind_ = 0;   // disk writes started up to here (append lock)
    std::vector<int> unsynced_fds_;      // closed-for-writing segments still to fdatasync
    bool active_dirty_ = false;
    std::uint64_t next_sequence_ = 0;
    std::uint64_t floor_ = 0;              // every sequence below is done
    std::uint64_t persisted_floor_ = 0;    // what the acked file says
    std::set<std::uint64_t> done_;         // done sequences >= floor_
    std::set<std::uint64_t> outstanding_;  // handed out by next(), not done
    std::uint64_t pending_ = 0;            // records not done
    std::uint64_t bytes_ = 0;
    SpoolCounters counters_;

    // The reader: the next record to hand out is at read_offset_ in segments_[read_index_].
    std::size_t read_index_ = 0;
    std::uint64_t read_offset_ = 0;
    int read_fd_ = -1;
    std::string read_path_;
    std::string buffer_;  // its first buffer_length_ bytes: read_path_ from buffer_offset_
    std::size_t buffer_length_ = 0;
    std::uint64_t buffer_offset_ = 0;
    std::uint64_t expected_sequence_ = 0;  // of the record at read_offset_, past a segment's first
    std::string problem_;                  // problem(); under mutex_
};

}  // namespace nodebridge
