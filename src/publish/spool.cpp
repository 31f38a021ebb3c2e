#include "spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nodebridge {
namespace {

// ---- little-endian fields --------------------------------------------------------------

template <typename T>
void put(std::string& out, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out.push_back(static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i) & 0xFF));
    }
}

template <typename T>
T get(std::string_view bytes, std::size_t at) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        value |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    }
    return static_cast<T>(value);
}

// Slicing-by-8 tables: kCrcTables[0] is the classic byte table; kCrcTables[k][n] is the crc
// of byte n followed by k zero bytes, so eight bytes are folded in per step.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> tables{};
    for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tables[0][n] = c;
    }
    for (std::uint32_t n = 0; n < 256; ++n) {
        for (std::size_t k = 1; k < 8; ++k) {
            const std::uint32_t previous = tables[k - 1][n];
            tables[k][n] = tables[0][previous & 0xFF] ^ (previous >> 8);
        }
    }
    return tables;
}
constexpr auto kCrcTables = make_crc_tables();

constexpr std::string_view kAckMagic{"NBACKED1", 8};
constexpr std::size_t kAckFileBytes = 8 + 8 + 4;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::uint64_t kWriteBehind = 1 << 20;  // appended bytes per sync_file_range()
constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::uint64_t kMaxSequence = 1ull << 62;

std::string errno_text() { return std::strerror(errno); }

// Writes all of `bytes` at the end of `fd`; false on error.
bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Writes all of `bytes` at `offset` of `fd`; false on error.
bool pwrite_all(int fd, std::string_view bytes, std::uint64_t offset) {
    while (!bytes.empty()) {
        const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

// True when every byte of `fd` from `offset` to `size` is zero: the unused, preallocated
// tail of a segment that was being written when the process ended.
bool zero_from(int fd, std::uint64_t offset, std::uint64_t size) {
    std::string chunk(kReadChunk, '\0');
    while (offset < size) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunk, size - offset));
        const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        const std::string_view got(chunk.data(), static_cast<std::size_t>(n));
        if (got.find_first_not_of('\0') != std::string_view::npos) return false;
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

// Reads up to `size` bytes at `offset`; returns what was read (short at end of file).
std::string read_some(int fd, std::uint64_t offset, std::size_t size) {
    std::string out(size, '\0');
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n =
            ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

std::string segment_name(std::uint64_t first) {
    char name[32];
    std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(first));
    return std::string(name) + std::string(kSegmentSuffix);
}

// The first sequence in a segment's file name, or nullopt for other files.
std::optional<std::uint64_t> parse_segment_name(std::string_view name) {
    if (name.size() != 16 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : name.substr(0, 16)) {
        int digit = 0;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else {
            return std::nullopt;
        }
        value = value << 4 | static_cast<std::uint64_t>(digit);
    }
    return value;
}

// The name of the user this process runs as, or its uid when it has none.
std::string current_user() {
    const uid_t uid = geteuid();
    std::array<char, 4096> buffer{};
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        return found->pw_name;
    }
    return "uid " + std::to_string(uid);
}

bool make_dirs(const std::string& path) {
    for (std::size_t at = 1; at <= path.size(); ++at) {
        if (at != path.size() && path[at] != '/') continue;
        const std::string part = path.substr(0, at);
        if (mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) return false;
    }
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

// ---- the record codec --------------------------------------------------------------------

std::uint32_t spool_crc32(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t left = bytes.size();
    std::uint32_t c = 0xFFFFFFFFu;
    const auto& t = kCrcTables;
    while (left >= 8) {
        const std::uint32_t low = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                       std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
        c = t[7][low & 0xFF] ^ t[6][low >> 8 & 0xFF] ^ t[5][low >> 16 & 0xFF] ^ t[4][low >> 24] ^
            t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
        p += 8;
        left -= 8;
    }
    while (left-- > 0) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void encode_record(const SpoolRecord& record, std::string& out, RecordFormat format) {
    const bool with_rule = format == RecordFormat::v2;
    const std::size_t start = out.size();
    out.reserve(start + kRecordHeaderBytes + kRecordFixedBody + record.message.topic.size() +
                record.message.rule.size() + record.message.payload.size());
    put<std::uint32_t>(out, 0);  // length, filled in below
    put<std::uint32_t>(out, 0);  // crc32
    put<std::uint64_t>(out, record.sequence);
    put<std::int64_t>(out, record.time_ms);
    put<std::uint8_t>(out, static_cast<std::uint8_t>(record.message.qos));
    put<std::uint8_t>(out, record.message.retain ? 1 : 0);
    put<std::uint16_t>(out, static_cast<std::uint16_t>(record.message.topic.size()));
    if (with_rule) put<std::uint16_t>(out, static_cast<std::uint16_t>(record.message.rule.size()));
    out += record.message.topic;
    if (with_rule) out += record.message.rule;
    out += record.message.payload;
    const std::string_view body(out.data() + start + kRecordHeaderBytes,
                                out.size() - start - kRecordHeaderBytes);
    const auto length = static_cast<std::uint32_t>(body.size());
    const std::uint32_t crc = spool_crc32(body);
    for (std::size_t i = 0; i < 4; ++i) {
        out[start + i] = static_cast<char>(length >> (8 * i) & 0xFF);
        out[start + 4 + i] = static_cast<char>(crc >> (8 * i) & 0xFF);
    }
}

RecordStatus decode_record(std::string_view bytes, SpoolRecord& out, std::size_t& consumed,
                           RecordFormat format) {
    const bool with_rule = format == RecordFormat::v2;
    const std::size_t fixed = with_rule ? kRecordFixedBody : kRecordFixedBodyV1;
    if (bytes.size() < kRecordHeaderBytes) return RecordStatus::truncated;
    const auto length = get<std::uint32_t>(bytes, 0);
    if (length < fixed || length > kMaxRecordBody) return RecordStatus::bad_length;
    if (bytes.size() - kRecordHeaderBytes < length) return RecordStatus::truncated;
    const std::string_view body = bytes.substr(kRecordHeaderBytes, length);
    if (spool_crc32(body) != get<std::uint32_t>(bytes, 4)) return RecordStatus::bad_checksum;
    const auto qos = get<std::uint8_t>(body, 16);
    const auto retain = get<std::uint8_t>(body, 17);
    const std::size_t topic_length = get<std::uint16_t>(body, 18);
    const std::size_t rule_length = with_rule ? get<std::uint16_t>(body, 20) : 0;
    if (qos > 2 || retain > 1 || topic_length == 0 || topic_length + rule_length > length - fixed) {
        return RecordStatus::bad_fields;
    }
    out.sequence = get<std::uint64_t>(body, 0);
    out.time_ms = get<std::int64_t>(body, 8);
    out.message.qos = qos;
    out.message.retain = retain == 1;
    out.message.topic.assign(body.substr(fixed, topic_length));
    out.message.rule.assign(body.substr(fixed + topic_length, rule_length));
    out.message.payload.assign(body.substr(fixed + topic_length + rule_length));
    consumed = kRecordHeaderBytes + length;
    return RecordStatus::ok;
}

std::string_view to_string(RecordStatus status) {
    switch (status) {
        case RecordStatus::ok:
            return "ok";
        case RecordStatus::truncated:
            return "truncated record";
        case RecordStatus::bad_length:
            return "bad record length";
        case RecordStatus::bad_checksum:
            return "checksum mismatch";
        case RecordStatus::bad_fields:
            return "bad record fields";
    }
    return "?";
}

// ---- opening and recovery ----------------------------------------------------------------

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, Logger& log, std::string* failure) {
    // Says why the spool is unusable: an error with the consequence and the remedy.
    const auto refuse = [&](std::string reason, std::string_view remedy) {
        log.log(LogLevel::error,
                "spool: " + reason +
                    "; QoS 1/2 messages are kept in memory only (lost on restart). " +
                    std::string(remedy),
                {.event = "spool-unavailable"});
        if (failure) *failure = std::move(reason);
        return nullptr;
    };
    const std::string chown_remedy = "Fix: " + spool_remedy(options.dir) + ", then restart";
    if (options.dir.empty() || !make_dirs(options.dir)) {
        return refuse("cannot create directory '" + options.dir + "': " + errno_text(),
                      chown_remedy);
    }
    const std::string lock_path = options.dir + "/lock";
    const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0) {
        return refuse("cannot write in '" + options.dir + "': " + errno_text(), chown_remedy);
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd);
        return refuse("'" + options.dir + "' is in use by another process",
                      "Give each daemon its own mqtt.buffer.dir.");
    }
    std::unique_ptr<Spool> spool(new Spool(options, log, lock_fd));
    spool->recover();
    // Prove the directory is writable now rather than at the first message.
    if (!spool->open_active()) {
        return refuse("cannot write in '" + options.dir + "': " + errno_text(), chown_remedy);
    }
    return spool;
}

std::string spool_remedy(const std::string& dir) {
    const std::string user = current_user();
    return "give the directory and its files to user " + user + " (chown -R " + user + ": '" + dir +
           "'; docs/operations.md, \"Spool unavailable\")";
}

std::optional<std::string> spool_dir_problem(const std::string& dir) {
    if (dir.empty()) return std::nullopt;
    const std::string user = current_user();
    struct stat info {};
    if (stat(dir.c_str(), &info) != 0) {
        // Missing: the nearest existing parent must let this user create it.
        std::string parent = dir;
        while (true) {
            const auto slash = parent.find_last_of('/');
            parent = slash == 0 ? "/" : parent.substr(0, slash);
            if (stat(parent.c_str(), &info) == 0) break;
            if (parent == "/") return std::nullopt;
        }
        if (!S_ISDIR(info.st_mode)) {
            return "cannot create '" + dir + "': '" + parent + "' is not a directory";
        }
        if (access(parent.c_str(), W_OK | X_OK) != 0) {
            return "cannot create '" + dir + "': '" + parent + "' is not writable by user " + user;
        }
        return std::nullopt;
    }
    if (!S_ISDIR(info.st_mode)) return "'" + dir + "' is not a directory";
    if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
        return "'" + dir + "' is not writable by user " + user + " (owner uid " +
               std::to_string(info.st_uid) + ")";
    }
    DIR* entries = opendir(dir.c_str());
    if (entries == nullptr) return "cannot read '" + dir + "': " + errno_text();
    std::optional<std::string> problem;
    while (const dirent* entry = readdir(entries)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        const std::string path = dir + "/" + name;
        if (access(path.c_str(), R_OK | W_OK) != 0) {
            struct stat file {};
            stat(path.c_str(), &file);
            problem = "'" + path + "' is not writable by user " + user + " (owner uid " +
                      std::to_string(file.st_uid) + ")";
            break;
        }
    }
    closedir(entries);
    return problem;
}

Spool::Spool(const SpoolOptions& options, Logger& log, int lock_fd)
    : options_([&] {
          SpoolOptions o = options;
          if (o.segment_bytes == 0) {
              o.segment_bytes = std::clamp<std::uint64_t>(o.max_bytes / 16, 64 * 1024, 8 << 20);
          }
          return o;
      }()),
      log_(log),
      lock_fd_(lock_fd) {}

Spool::~Spool() {
    sync();
    std::lock_guard lock(mutex_);
    if (active_fd_ >= 0) {
        unmap_active();
        ::close(active_fd_);
    }
    close_reader();
    // An active segment without records is only a file header: leave nothing behind.
    if (!segments_.empty() && segments_.back().records == 0) {
        ::unlink(segments_.back().path.c_str());
    }
    ::close(lock_fd_);  // releases the flock
}

std::optional<std::uint64_t> Spool::read_ack_floor() const {
    const int fd = ::open((options_.dir + "/acked").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    const std::string bytes = read_some(fd, 0, kAckFileBytes + 1);
    ::close(fd);
    if (bytes.size() != kAckFileBytes || !bytes.starts_with(kAckMagic) ||
        get<std::uint32_t>(bytes, 16) != spool_crc32(std::string_view(bytes).substr(0, 16))) {
        return std::nullopt;
    }
    return get<std::uint64_t>(bytes, 8);
}

void Spool::recover() {
    const LogContext context{.event = "spool"};
    const auto floor = read_ack_floor();
    floor_ = persisted_floor_ = floor.value_or(0);

    std::vector<std::pair<std::uint64_t, std::string>> found;
    if (DIR* dir = opendir(options_.dir.c_str())) {
        while (const dirent* entry = readdir(dir)) {
            if (auto first = parse_segment_name(entry->d_name)) {
                found.emplace_back(*first, options_.dir + "/" + entry->d_name);
            }
        }
        closedir(dir);
    }
    std::sort(found.begin(), found.end());

    std::uint64_t recovered = 0;
    std::uint64_t lost_known = 0;
    std::uint64_t damaged_files = 0;
    std::uint64_t damaged_bytes = 0;
    // First sequence lost in the last damaged segment; 0 = none pending.
    std::uint64_t lost_from = 0;
    bool lost_pending = false;
    for (const auto& [first_in_name, path] : found) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            warn("spool-recover", "spool: cannot read " + path + ": " + errno_text());
            continue;
        }
        struct stat info {};
        fstat(fd, &info);
        auto file_size = static_cast<std::uint64_t>(info.st_size);
        Segment segment{.path = path, .end = kSegmentMagic.size()};
        if (file_size >= kSegmentMagic.size()) {
            const std::string magic = read_some(fd, 0, kSegmentMagic.size());
            if (magic == kSegmentMagicV1) {
                segment.format = RecordFormat::v1;
            } else if (magic != kSegmentMagic) {
                warn("spool-recover", "spool: " + path + " has a damaged header; reading on");
            }
        }
        // Records, up to the first bad one. Sequence numbers must keep growing by one.
        std::string chunk;
        std::uint64_t chunk_offset = segment.end;
        RecordStatus status = RecordStatus::ok;
        while (segment.end < file_size) {
            std::size_t in_chunk = segment.end - chunk_offset;
            if (in_chunk + kRecordHeaderBytes > chunk.size() ||
                in_chunk + kRecordHeaderBytes + get<std::uint32_t>(chunk, in_chunk) >
                    chunk.size()) {
                // Refill from the record's start with enough for its whole body (bounded by
                // the file size, so a bad length cannot make us allocate much).
                std::size_t want = kReadChunk;
                const std::string head = read_some(fd, segment.end, kRecordHeaderBytes);
                if (head.size() == kRecordHeaderBytes) {
                    want = std::max<std::size_t>(
                        want,
                        kRecordHeaderBytes + std::min<std::uint64_t>(get<std::uint32_t>(head, 0),
                                                                     file_size - segment.end));
                }
                chunk = read_some(fd, segment.end, want);
                chunk_offset = segment.end;
                in_chunk = 0;
            }
            SpoolRecord record;
            std::size_t consumed = 0;
            status = decode_record(std::string_view(chunk).substr(in_chunk), record, consumed,
                                   segment.format);
            // Sequence numbers count up from 0 by one; a huge one is damage, not history.
            if (status == RecordStatus::ok &&
                (record.sequence > kMaxSequence ||
                 (segment.records > 0 && record.sequence != segment.last + 1))) {
                status = RecordStatus::bad_fields;
            }
            if (status != RecordStatus::ok) break;
            if (segment.records == 0) segment.first = record.sequence;
            segment.last = record.sequence;
            ++segment.records;
            segment.newest_ms = std::max(segment.newest_ms, record.time_ms);
            segment.end += consumed;
        }
        // A segment the previous process was still writing ends in its preallocated, unused
        // zero bytes: that is a clean end, not damage. Cut them off.
        if (segment.end < file_size && segment.end >= kSegmentMagic.size() &&
            zero_from(fd, segment.end, file_size)) {
            if (::truncate(path.c_str(), static_cast<off_t>(segment.end)) != 0) {
                // Harmless: the tail is found zero again next time.
            }
            file_size = segment.end;
        }
        ::close(fd);
        // A damaged segment's lost records are known when a later segment says where the
        // numbering went on.
        if (lost_pending && segment.records > 0 && segment.first > lost_from) {
            lost_known += segment.first - lost_from;
        }
        if (segment.records > 0) lost_pending = false;
        const bool damaged = segment.end < file_size || (file_size > 0 && file_size < segment.end);
        if (damaged) {
            ++damaged_files;
            damaged_bytes += file_size - std::min(segment.end, file_size);
            warn("spool-recover",
                 "spool: " + path + ": " +
                     std::string(file_size < kSegmentMagic.size() ? "shorter than its header"
                                                                  : to_string(status)) +
                     " at byte " + std::to_string(std::min(segment.end, file_size)) + " of " +
                     std::to_string(file_size) + "; " + std::to_string(segment.records) +
                     " records before it are kept");
            lost_from = segment.records > 0 ? segment.last + 1 : first_in_name;
            lost_pending = true;
        }
        if (segment.records == 0 || segment.last < floor_) {
            ::unlink(path.c_str());  // nothing readable, or everything acknowledged
            continue;
        }
        if (!segments_.empty() && segment.first <= segments_.back().last) {
            warn("spool-recover", "spool: " + path + " overlaps the segment before it; ignored");
            continue;
        }
        recovered += segment.last - std::max(segment.first, floor_) + 1;
        next_sequence_ = segment.last + 1;
        bytes_ += segment.end;
        segments_.push_back(std::move(segment));
    }
    next_sequence_ = std::max(next_sequence_, floor_);
    pending_ = recovered;
    counters_.recovered = recovered;
    counters_.lost = lost_known;
    read_index_ = 0;
    read_offset_ = kSegmentMagic.size();
    advance_floor();  // past numbers no segment holds

    if (recovered > 0 || damaged_files > 0) {
        std::string text = "spool: recovered " + std::to_string(recovered) +
                           " unacknowledged messages from " + options_.dir;
        if (damaged_files > 0) {
            text += "; " + std::to_string(damaged_files) + " damaged segment file(s), " +
                    std::to_string(damaged_bytes) + " bytes unreadable, " +
                    std::to_string(lost_known) + " messages known lost";
        }
        log_.log(damaged_files > 0 ? LogLevel::warning : LogLevel::notice, text, context);
    }
}

// ---- writing -------------------------------------------------------------------------------

bool Spool::open_active() {
    if (active_fd_ >= 0) return true;
    Segment segment{.path = options_.dir + "/" + segment_name(next_sequence_),
                    .first = next_sequence_,
                    .end = kSegmentMagic.size()};
    const int fd = ::open(segment.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    if (!pwrite_all(fd, kSegmentMagic, 0)) {
        ::close(fd);
        ::unlink(segment.path.c_str());
        return false;
    }
    // Appends copy records into a shared mapping of the segment: the bytes are in the page
    // cache (they survive the process being killed) without a system call per record. The
    // blocks are reserved first, so a full disk fails here rather than as SIGBUS later;
    // when that or the mapping fails, appends use pwrite() instead.
    const std::uint64_t capacity =
        std::max<std::uint64_t>(options_.segment_bytes, kSegmentMagic.size());
    bool mapped = false;
    if (posix_fallocate(fd, 0, static_cast<off_t>(capacity)) == 0) {
        void* map = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map != MAP_FAILED) {
            active_map_ = static_cast<char*>(map);
            active_capacity_ = capacity;
            written_behind_ = 0;
            mapped = true;
        }
    }
    // Unmapped, the file holds just the magic (a failed reservation may have grown it).
    if (!mapped && ftruncate(fd, static_cast<off_t>(segment.end)) != 0) {
        ::close(fd);
        ::unlink(segment.path.c_str());
        return false;
    }
    active_fd_ = fd;
    active_dirty_ = true;
    bytes_ += segment.end;
    segments_.push_back(std::move(segment));
    return true;
}

void Spool::unmap_active() {
    if (active_map_ == nullptr) return;
    munmap(active_map_, active_capacity_);
    active_map_ = nullptr;
    active_capacity_ = 0;
    // Leave no preallocated tail behind a segment that is no longer written.
    if (!segments_.empty() &&
        ftruncate(active_fd_, static_cast<off_t>(segments_.back().end)) != 0) {
        // Recovery treats a zero tail as a clean end.
    }
}

void Spool::rotate() {
    if (active_fd_ < 0) return;
    unmap_active();
    if (active_dirty_) {
        unsynced_fds_.push_back(active_fd_);
    } else {
        ::close(active_fd_);
    }
    active_fd_ = -1;
    active_dirty_ = false;
}

std::uint64_t Spool::undone_in(const Segment& segment) const {
    if (segment.records == 0 || segment.last < floor_) return 0;
    const std::uint64_t from = std::max(segment.first, floor_);
    std::uint64_t count = segment.last - from + 1;
    for (auto it = done_.lower_bound(from); it != done_.end() && *it <= segment.last; ++it) {
        --count;
    }
    return count;
}

void Spool::drop_front_segment(std::uint64_t& counter) {
    Segment& front = segments_.front();
    const bool is_active = active_fd_ >= 0 && segments_.size() == 1;
    if (is_active) rotate();
    const std::uint64_t undone = undone_in(front);
    // Records handed out and still unacknowledged are in the broker's hands (or the client
    // library's): not counted as dropped.
    std::uint64_t outstanding = 0;
    for (auto it = outstanding_.lower_bound(front.first);
         it != outstanding_.end() && *it <= front.last;) {
        it = outstanding_.erase(it);
        ++outstanding;
    }
    counter += undone - std::min(undone, outstanding);
    pending_ -= std::min(pending_, undone);
    if (read_index_ == 0) {
        close_reader();
        read_offset_ = kSegmentMagic.size();
    } else {
        --read_index_;
    }
    if (front.records > 0) {
        floor_ = std::max(floor_, front.last + 1);
        done_.erase(done_.begin(), done_.lower_bound(floor_));
    }
    bytes_ -= std::min(bytes_, front.end);
    remove_file(front.path);
    segments_.pop_front();
    advance_floor();
}

Spool::Append Spool::append(const Message& message, std::int64_t now_ms) {
    // Appends are serialized by append_mutex_, which alone covers the write() into the active
    // segment: mutex_, which next() and acknowledge() take on the network thread, is held only
    // to decide where the record goes and, once it is written, to count it in. The active
    // segment and its descriptor change only under both locks, so they stay put meanwhile.
    std::lock_guard append_lock(append_mutex_);
    if (message.topic.empty() || message.topic.size() > kMaxRecordTopic ||
        message.rule.size() > kMaxRecordRule || message.qos < 0 || message.qos > 2 ||
        message.payload.size() >
            kMaxRecordBody - kRecordFixedBody - kMaxRecordTopic - kMaxRecordRule) {
        {
            std::lock_guard lock(mutex_);
            ++counters_.write_errors;
        }
        warn("spool-write",
             "spool: message not storable (empty or oversized topic or rule, bad QoS)");
        return Append::failed;
    }
    // next_sequence_ changes only under append_mutex_ (and before open() returns).
    append_buffer_.clear();
    encode_record(SpoolRecord{.sequence = next_sequence_, .time_ms = now_ms, .message = message},
                  append_buffer_);
    const std::uint64_t size = append_buffer_.size();
    int fd = -1;
    char* map = nullptr;
    std::uint64_t at = 0;
    {
        std::lock_guard lock(mutex_);
        // What the record costs on disk, with the header of a new segment if it starts one.
        const auto needed = [&] {
            const bool new_segment =
                active_fd_ < 0 || (segments_.back().records > 0 &&
                                   segments_.back().end + size > options_.segment_bytes);
            return size + (new_segment ? kSegmentMagic.size() : 0);
        };
        if (bytes_ + needed() > options_.max_bytes) {
            if (options_.on_full == SpoolOnFull::drop_newest) {
                ++counters_.dropped_full;
                return Append::refused;
            }
            while (bytes_ + needed() > options_.max_bytes && !segments_.empty() &&
                   segments_.front().records > 0) {
                drop_front_segment(counters_.dropped_full);
            }
            if (bytes_ + needed() > options_.max_bytes) {
                // Bigger than the whole spool may be.
                ++counters_.dropped_full;
                return Append::refused;
            }
        }
        if (active_fd_ >= 0 && segments_.back().records > 0 &&
            segments_.back().end + size > options_.segment_bytes) {
            rotate();
        }
        if (active_fd_ < 0 && !open_active()) {
            ++counters_.write_errors;
            problem_ = "cannot create a segment in '" + options_.dir + "': " + errno_text();
            warn("spool-write", "spool: " + problem_);
            return Append::failed;
        }
        fd = active_fd_;
        at = segments_.back().end;
        if (active_map_ != nullptr && at + size <= active_capacity_) map = active_map_;
    }
    // Readers never look past the active segment's `end`, so they cannot see a partial record.
    bool written = true;
    if (map != nullptr) {
        std::memcpy(map + at, append_buffer_.data(), size);
        // Write-behind: start the disk writes of each MiB as it fills, from the appending
        // thread, so the next sync() (on the Publisher's network thread) finds little left
        // to wait for. It may block while the disk queue is full: back-pressure on a flood.
        if (at + size >= written_behind_ + kWriteBehind) {
            sync_file_range(fd, static_cast<off64_t>(written_behind_),
                            static_cast<off64_t>(at + size - written_behind_),
                            SYNC_FILE_RANGE_WRITE);
            written_behind_ = at + size;
        }
    } else {
        written = pwrite_all(fd, append_buffer_, at);
    }
    const int write_errno = errno;
    std::lock_guard lock(mutex_);
    Segment& active = segments_.back();
    if (!written) {
        ++counters_.write_errors;
        errno = write_errno;
        warn("spool-write", "spool: write to " + active.path + " failed: " + errno_text());
        // Cut off what part of the record made it, so later records stay readable: zero it
        // where it overlaps the mapping (the file must keep the mapping's size), truncate it
        // beyond.
        if (active_map_ != nullptr && active.end < active_capacity_) {
            std::memset(active_map_ + active.end, 0, active_capacity_ - active.end);
        }
        const std::uint64_t keep = std::max<std::uint64_t>(active.end, active_capacity_);
        if (ftruncate(active_fd_, static_cast<off_t>(keep)) != 0) rotate();
        return Append::failed;
    }
    if (active.records == 0) active.first = next_sequence_;
    active.last = next_sequence_;
    ++active.records;
    active.newest_ms = std::max(active.newest_ms, now_ms);
    active.end += size;
    active_dirty_ = true;
    bytes_ += size;
    ++pending_;
    ++next_sequence_;
    return Append::stored;
}

// ---- reading -------------------------------------------------------------------------------

void Spool::close_reader() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    read_path_.clear();
    buffer_length_ = 0;
    buffer_offset_ = 0;
}

void Spool::fill_buffer(std::uint64_t offset, std::size_t size) {
    // The buffer keeps its size between reads (no zero-filling of 256 KiB per refill); only an
    // oversized record grows it, and it shrinks back after.
    if (buffer_.size() < size || (buffer_.size() > kReadChunk && size <= kReadChunk)) {
        buffer_.resize(std::max(size, kReadChunk));
        buffer_.shrink_to_fit();
    }
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n =
            ::pread(read_fd_, buffer_.data() + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    buffer_offset_ = offset;
    buffer_length_ = got;
}

RecordStatus Spool::read_at(const Segment& segment, std::uint64_t offset, SpoolRecord& out,
                            std::size_t& consumed) {
    if (read_fd_ < 0 || read_path_ != segment.path) {
        close_reader();
        read_fd_ = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (read_fd_ < 0) return RecordStatus::truncated;
        read_path_ = segment.path;
    }
    const auto in_buffer = [&](std::uint64_t length) {
        return offset >= buffer_offset_ && offset + length <= buffer_offset_ + buffer_length_;
    };
    // Read what the segment holds from `offset` (no more: a caught-up reader reads just the
    // records appended since, in one pread), up to a chunk, or a whole oversized record.
    const std::uint64_t available = segment.end - std::min(segment.end, offset);
    if (!in_buffer(kRecordHeaderBytes)) {
        fill_buffer(offset,
                    static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunk, available)));
    }
    if (!in_buffer(kRecordHeaderBytes)) return RecordStatus::truncated;
    const std::string_view buffered(buffer_.data(), buffer_length_);
    const std::uint64_t length =
        kRecordHeaderBytes + get<std::uint32_t>(buffered, offset - buffer_offset_);
    if (offset + length > segment.end) return RecordStatus::bad_length;
    if (!in_buffer(length)) {
        fill_buffer(offset, static_cast<std::size_t>(std::min<std::uint64_t>(
                                std::max<std::uint64_t>(kReadChunk, length), available)));
    }
    if (!in_buffer(length)) return RecordStatus::truncated;
    const RecordStatus status = decode_record(
        std::string_view(buffer_.data(), buffer_length_).substr(offset - buffer_offset_), out,
        consumed, segment.format);
    // A record that frames correctly can be stepped over even when its content is bad.
    if (status != RecordStatus::ok) consumed = length;
    return status;
}

std::optional<SpoolRecord> Spool::next(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    while (read_index_ < segments_.size()) {
        const Segment& segment = segments_[read_index_];
        if (read_offset_ >= segment.end) {
            if (read_index_ + 1 >= segments_.size()) return std::nullopt;  // caught up
            ++read_index_;
            read_offset_ = kSegmentMagic.size();
            continue;
        }
        SpoolRecord record;
        std::size_t consumed = 0;
        const RecordStatus status = read_at(segment, read_offset_, record, consumed);
        if (status == RecordStatus::bad_checksum || status == RecordStatus::bad_fields) {
            // Changed on disk since it was written: lose this record only. Its sequence
            // number is unknown, so it stays counted in `records` until its segment goes.
            warn("spool-read", "spool: " + segment.path + " at byte " +
                                   std::to_string(read_offset_) + ": " +
                                   std::string(to_string(status)) + "; record skipped");
            const std::uint64_t sequence =
                read_offset_ == kSegmentMagic.size() ? segment.first : expected_sequence_;
            read_offset_ += consumed;
            expected_sequence_ = sequence + 1;
            if (sequence >= floor_ && sequence <= segment.last && !done_.contains(sequence)) {
                ++counters_.lost;
                --pending_;
                done_.insert(sequence);
                advance_floor();
            }
            continue;
        }
        if (status != RecordStatus::ok) {
            // The file changed under us (edited, truncated): give up on the rest of it.
            warn("spool-read", "spool: cannot read " + segment.path + " at byte " +
                                   std::to_string(read_offset_) + "; skipping the rest of it");
            const std::uint64_t lost = undone_in(segment);
            counters_.lost += lost;
            pending_ -= std::min(pending_, lost);
            for (std::uint64_t s = std::max(segment.first, floor_); s <= segment.last; ++s) {
                done_.insert(s);
            }
            read_offset_ = segment.end;
            advance_floor();
            continue;
        }
        read_offset_ += consumed;
        const std::uint64_t sequence = record.sequence;
        expected_sequence_ = sequence + 1;
        if (sequence < floor_ || done_.contains(sequence) || outstanding_.contains(sequence)) {
            continue;
        }
        if (options_.max_age.count() > 0 && record.time_ms < now_ms - options_.max_age.count()) {
            ++counters_.dropped_expired;
            --pending_;
            done_.insert(sequence);
            advance_floor();
            continue;
        }
        outstanding_.insert(sequence);
        return record;
    }
    return std::nullopt;
}

// ---- acknowledging -------------------------------------------------------------------------

void Spool::advance_floor() {
    for (;;) {
        if (done_.erase(floor_) > 0) {
            ++floor_;
            continue;
        }
        // Skip sequence numbers no segment holds (lost at recovery, or never written).
        const auto holder = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) {
            return s.records > 0 && s.last >= floor_;
        });
        if (holder == segments_.end()) {
            floor_ = std::max(floor_, next_sequence_);
            done_.clear();
            break;
        }
        if (holder->first > floor_) {
            floor_ = holder->first;
            done_.erase(done_.begin(), done_.lower_bound(floor_));
            continue;
        }
        break;
    }
    delete_done_segments();
}

void Spool::delete_done_segments() {
    // The active segment stays (it is being written); the others go once all done.
    while (segments_.size() > 1 || (segments_.size() == 1 && active_fd_ < 0)) {
        const Segment& front = segments_.front();
        if (front.records > 0 && front.last >= floor_) break;
        if (segments_.size() == 1 && front.records == 0) break;
        if (read_index_ == 0) {
            close_reader();
            read_offset_ = kSegmentMagic.size();
        } else {
            --read_index_;
        }
        bytes_ -= std::min(bytes_, front.end);
        remove_file(front.path);
        segments_.pop_front();
    }
}

void Spool::acknowledge(std::uint64_t sequence) {
    std::lock_guard lock(mutex_);
    if (outstanding_.erase(sequence) == 0) return;  // not handed out, or dropped meanwhile
    if (sequence < floor_) return;
    if (sequence == floor_) {
        ++floor_;  // the usual case, acknowledgements in order: no need to remember it
    } else if (!done_.insert(sequence).second) {
        return;
    }
    --pending_;
    advance_floor();
}

void Spool::expire(std::int64_t now_ms) {
    if (options_.max_age.count() <= 0) return;
    // Dropping the active segment closes it: that needs the append lock too, taken first.
    std::lock_guard append_lock(append_mutex_);
    std::lock_guard lock(mutex_);
    const std::int64_t oldest_kept = now_ms - options_.max_age.count();
    while (!segments_.empty() && segments_.front().records > 0 &&
           segments_.front().newest_ms < oldest_kept) {
        drop_front_segment(counters_.dropped_expired);
    }
}

// ---- durability ----------------------------------------------------------------------------

bool Spool::needs_sync() const {
    std::lock_guard lock(mutex_);
    return active_dirty_ || !unsynced_fds_.empty() || floor_ != persisted_floor_ ||
           !problem_.empty();
}

void Spool::sync() {
    std::vector<int> fds;
    std::uint64_t floor = 0;
    bool write_floor = false;
    {
        std::lock_guard lock(mutex_);
        fds.swap(unsynced_fds_);
        if (active_fd_ >= 0 && active_dirty_) {
            const int copy = fcntl(active_fd_, F_DUPFD_CLOEXEC, 0);
            if (copy >= 0) fds.push_back(copy);
            active_dirty_ = false;
        }
        floor = floor_;
        // With a problem, every sync tries the directory again through the acked file.
        write_floor = floor_ != persisted_floor_ || !problem_.empty();
    }
    // The disk waits happen outside the lock: appends go on meanwhile.
    for (const int fd : fds) {
        if (fdatasync(fd) != 0) {
            warn("spool-sync",
                 "spool: fdatasync failed in '" + options_.dir + "': " + errno_text());
        }
        ::close(fd);
    }
    if (!write_floor) return;
    std::string bytes(kAckMagic);
    put<std::uint64_t>(bytes, floor);
    put<std::uint32_t>(bytes, spool_crc32(bytes));
    const std::string path = options_.dir + "/acked";
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    // The acked file may lag behind or be lost: then a few messages are sent again, which
    // at-least-once delivery allows. So no fsync here.
    const bool ok = fd >= 0 && write_all(fd, bytes);
    if (fd >= 0) ::close(fd);
    if (ok && ::rename(temporary.c_str(), path.c_str()) == 0) {
        {
            std::lock_guard lock(mutex_);
            persisted_floor_ = std::max(persisted_floor_, floor);
            if (problem_.empty()) return;
        }
        // The directory takes new files again; a segment to append to must be possible too.
        // Opening one changes the active segment: both locks, in their order.
        std::lock_guard append_lock(append_mutex_);
        std::lock_guard lock(mutex_);
        if (active_fd_ >= 0 || open_active()) problem_.clear();
    } else {
        const std::string reason = "cannot write '" + path + "': " + errno_text();
        if (fd >= 0) ::unlink(temporary.c_str());
        std::lock_guard lock(mutex_);
        problem_ = reason;
    }
}

std::string Spool::problem() const {
    std::lock_guard lock(mutex_);
    return problem_;
}

void Spool::remove_file(const std::string& path) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return;
    problem_ = "cannot remove '" + path + "': " + errno_text();
}

SpoolCounters Spool::counters() const {
    std::lock_guard lock(mutex_);
    SpoolCounters copy = counters_;
    copy.records = pending_;
    copy.unsent = pending_ - std::min<std::uint64_t>(pending_, outstanding_.size());
    copy.bytes = bytes_;
    copy.segments = segments_.size();
    return copy;
}

void Spool::warn(std::string_view cause, const std::string& text) {
    log_.log_limited(cause, LogLevel::warning, text, {.event = "spool"});
}

}  // namespace nodebridge
