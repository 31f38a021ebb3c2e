// The disk spool on a real temp directory: the record codec, append/next/acknowledge,
// segment rotation, recovery from damaged files, and the size and age bounds.

#include "spool.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "capturing_logger.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::CapturingLogger;
using test::TempDir;

Message message(const std::string& payload, int qos = 1, const std::string& topic = "t/x",
                const std::string& rule = "") {
    return Message{.topic = topic, .payload = payload, .qos = qos, .retain = false, .rule = rule};
}

std::vector<std::string> segment_files(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.ends_with(".seg")) names.push_back(dir + "/" + name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::uint64_t file_size(const std::string& path) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

// Takes every record the spool hands out, acknowledging none.
std::vector<SpoolRecord> take_all(Spool& spool, std::int64_t now_ms = 0) {
    std::vector<SpoolRecord> out;
    while (auto record = spool.next(now_ms)) out.push_back(std::move(*record));
    return out;
}

std::vector<std::string> payloads(const std::vector<SpoolRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.message.payload);
    return out;
}

std::vector<std::string> numbered(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back("m" + std::to_string(i));
    return out;
}

TEST(SpoolRecordCodec, RoundTripsEveryField) {
    EXPECT_EQ(spool_crc32("123456789"), 0xCBF43926u);  // the standard check value
    const SpoolRecord record{.sequence = 0x0102030405060708ull,
                             .time_ms = 1'700'000'000'123,
                             .message = {.topic = "a/b",
                                         .payload = std::string("x\0y", 3),
                                         .qos = 2,
                                         .retain = true,
                                         .rule = "rule-7"}};
    std::string bytes;
    encode_record(record, bytes);
    EXPECT_EQ(bytes.size(), kRecordHeaderBytes + kRecordFixedBody + 3 + 6 + 3);
    SpoolRecord decoded;
    std::size_t consumed = 0;
    ASSERT_EQ(decode_record(bytes + "trailing", decoded, consumed), RecordStatus::ok);
    EXPECT_EQ(consumed, bytes.size());
    EXPECT_EQ(decoded.sequence, record.sequence);
    EXPECT_EQ(decoded.time_ms, record.time_ms);
    EXPECT_EQ(decoded.message, record.message);
}

TEST(SpoolRecordCodec, ReadsTheOlderLayoutWithoutARule) {
    const SpoolRecord record{.sequence = 42,
                             .time_ms = 1'700'000'000'000,
                             .message = message("payload", 1, "a/b", "dropped-in-v1")};
    std::string v1;
    encode_record(record, v1, RecordFormat::v1);
    // The NBSPOOL1 layout, byte for byte: no rule length, no rule.
    EXPECT_EQ(v1.size(), kRecordHeaderBytes + kRecordFixedBodyV1 + 3 + 7);
    EXPECT_EQ(v1.substr(kRecordHeaderBytes + kRecordFixedBodyV1), "a/bpayload");
    SpoolRecord decoded;
    std::size_t consumed = 0;
    ASSERT_EQ(decode_record(v1, decoded, consumed, RecordFormat::v1), RecordStatus::ok);
    EXPECT_EQ(consumed, v1.size());
    EXPECT_EQ(decoded.sequence, 42u);
    EXPECT_EQ(decoded.message.topic, "a/b");
    EXPECT_EQ(decoded.message.payload, "payload");
    EXPECT_EQ(decoded.message.rule, "");

    // The layouts are told apart by the segment, not by the record: a v2 record read as v1
    // (or the reverse) must not pass as the same message.
    std::string v2;
    encode_record(record, v2);
    EXPECT_EQ(decode_record(v2, decoded, consumed, RecordFormat::v2), RecordStatus::ok);
    EXPECT_EQ(decoded.message.rule, "dropped-in-v1");
    SpoolRecord mixed;
    if (decode_record(v2, mixed, consumed, RecordFormat::v1) == RecordStatus::ok) {
        EXPECT_NE(mixed.message, record.message);
    }
}

TEST(SpoolRecordCodec, RefusesARuleLongerThanTheBody) {
    std::string bytes;
    encode_record(SpoolRecord{.sequence = 1, .message = message("p", 1, "t", "rule")}, bytes);
    // Claim a rule of 200 bytes in a body that has 5 left, and fix the checksum up.
    const std::size_t rule_length_at = kRecordHeaderBytes + 20;
    bytes[rule_length_at] = static_cast<char>(200);
    const std::uint32_t crc = spool_crc32(std::string_view(bytes).substr(kRecordHeaderBytes));
    for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<char>(crc >> (8 * i) & 0xFF);
    SpoolRecord out;
    std::size_t consumed = 0;
    EXPECT_EQ(decode_record(bytes, out, consumed), RecordStatus::bad_fields);
}

TEST(SpoolRecordCodec, SaysWhatIsWrongWithABadRecord) {
    std::string bytes;
    encode_record(SpoolRecord{.sequence = 1, .message = message("payload")}, bytes);
    SpoolRecord out;
    std::size_t consumed = 0;
    EXPECT_EQ(decode_record(bytes.substr(0, 5), out, consumed), RecordStatus::truncated);
    EXPECT_EQ(decode_record(bytes.substr(0, bytes.size() - 1), out, consumed),
              RecordStatus::truncated);
    std::string flipped = bytes;
    flipped.back() ^= 0x40;
    EXPECT_EQ(decode_record(flipped, out, consumed), RecordStatus::bad_checksum);
    std::string short_length = bytes;
    short_length[0] = 3;
    EXPECT_EQ(decode_record(short_length, out, consumed), RecordStatus::bad_length);
    // A valid checksum over invalid fields (qos 7).
    std::string bad_qos;
    encode_record(SpoolRecord{.sequence = 1, .message = message("p", 7)}, bad_qos);
    EXPECT_EQ(decode_record(bad_qos, out, consumed), RecordStatus::bad_fields);
}

class SpoolTest : public ::testing::Test {
  protected:
    SpoolOptions options(std::uint64_t segment_bytes = 0) const {
        return SpoolOptions{.dir = dir.path() + "/spool", .segment_bytes = segment_bytes};
    }
    TempDir dir;
    CapturingLogger log;
};

// Binary payloads (Sparkplug's protobuf) pass through the spool byte for byte, also across
// a reopen from disk.
TEST_F(SpoolTest, KeepsBinaryPayloadsByteForByte) {
    std::string binary;
    for (int i = 0; i < 512; ++i) binary.push_back(static_cast<char>(i % 256));
    {
        auto spool = Spool::open(options(), log);
        ASSERT_NE(spool, nullptr);
        ASSERT_EQ(spool->append(message(binary), 0), Spool::Append::stored);
        spool->sync();
    }
    auto reopened = Spool::open(options(), log);
    ASSERT_NE(reopened, nullptr);
    const auto records = take_all(*reopened);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].message.payload, binary);
}

TEST_F(SpoolTest, HandsOutRecordsInOrderAndForgetsAcknowledgedOnes) {
    auto spool = Spool::open(options(), log);
    ASSERT_NE(spool, nullptr);
    for (const auto& p : numbered(0, 5))
        ASSERT_EQ(spool->append(message(p), 0), Spool::Append::stored);
    EXPECT_EQ(spool->counters().records, 5u);
    EXPECT_EQ(spool->counters().unsent, 5u);

    const auto records = take_all(*spool);
    EXPECT_EQ(payloads(records), numbered(0, 5));
    EXPECT_EQ(records[0].sequence + 4, records[4].sequence);
    EXPECT_EQ(spool->counters().unsent, 0u);
    EXPECT_EQ(spool->counters().records, 5u);  // handed out, not yet acknowledged

    // Out of order, and twice: counted once each.
    spool->acknowledge(records[1].sequence);
    spool->acknowledge(records[0].sequence);
    spool->acknowledge(records[0].sequence);
    EXPECT_EQ(spool->counters().records, 3u);
    EXPECT_FALSE(spool->next(0).has_value());
    spool->append(message("late"), 0);
    const auto late = spool->next(0);
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->message.payload, "late");
}

TEST_F(SpoolTest, RotatesSegmentsAndDeletesThoseFullyAcknowledged) {
    auto spool = Spool::open(options(/*segment_bytes=*/300), log);
    ASSERT_NE(spool, nullptr);
    for (const auto& p : numbered(0, 40)) spool->append(message(p), 0);
    const auto files = segment_files(dir.path() + "/spool");
    EXPECT_GE(files.size(), 5u);
    for (const auto& f : files) EXPECT_LE(file_size(f), 300u + 50u) << f;

    const auto records = take_all(*spool);
    ASSERT_EQ(payloads(records), numbered(0, 40));
    for (const auto& r : records) spool->acknowledge(r.sequence);
    EXPECT_EQ(spool->counters().records, 0u);
    EXPECT_EQ(segment_files(dir.path() + "/spool").size(), 1u);  // the one being written
}

TEST_F(SpoolTest, ReopeningResumesAfterTheLastAcknowledgedRecord) {
    {
        auto spool = Spool::open(options(300), log);
        ASSERT_NE(spool, nullptr);
        for (const auto& p : numbered(0, 30)) spool->append(message(p), 0);
        const auto records = take_all(*spool);
        for (int i = 0; i < 12; ++i) spool->acknowledge(records[i].sequence);
        spool->acknowledge(records[20].sequence);  // beyond the floor: sent again, allowed
    }
    auto spool = Spool::open(options(300), log);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->counters().recovered, 18u);
    EXPECT_EQ(spool->counters().records, 18u);
    EXPECT_EQ(payloads(take_all(*spool)), numbered(12, 30));
    EXPECT_EQ(log.count_containing("recovered 18 unacknowledged"), 1);
    // New records continue the numbering after the old ones.
    spool->append(message("new"), 0);
    const auto next = spool->next(0);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->message.payload, "new");
    EXPECT_EQ(next->sequence, 30u);
}

TEST_F(SpoolTest, KeepsEachMessagesRuleAcrossARestart) {
    {
        auto spool = Spool::open(options(300), log);
        ASSERT_NE(spool, nullptr);
        for (int i = 0; i < 20; ++i) {
            const std::string rule = i % 3 == 0 ? "" : "rule-" + std::to_string(i % 3);
            ASSERT_EQ(spool->append(message("m" + std::to_string(i), 1, "t/x", rule), 0),
                      Spool::Append::stored);
        }
        // Handed out live, the rule is there too.
        const auto first = spool->next(0);
        ASSERT_TRUE(first.has_value());
        EXPECT_EQ(first->message.rule, "");
        const auto second = spool->next(0);
        ASSERT_TRUE(second.has_value());
        EXPECT_EQ(second->message.rule, "rule-1");
    }
    auto spool = Spool::open(options(300), log);
    ASSERT_NE(spool, nullptr);
    const auto records = take_all(*spool);
    ASSERT_EQ(records.size(), 20u);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(records[i].message, message("m" + std::to_string(i), 1, "t/x",
                                              i % 3 == 0 ? "" : "rule-" + std::to_string(i % 3)));
    }
    // An oversized rule cannot be stored.
    EXPECT_EQ(spool->append(message("x", 1, "t/x", std::string(kMaxRecordRule + 1, 'r')), 0),
              Spool::Append::failed);
}

TEST_F(SpoolTest, RecoversSegmentsWrittenInTheOlderLayout) {
    // Two NBSPOOL1 segments, as a previous version left them, the first half acknowledged.
    const std::string spool_dir = dir.path() + "/spool";
    ASSERT_EQ(mkdir(spool_dir.c_str(), 0750), 0);
    for (const int first : {0, 5}) {
        std::string file(kSegmentMagicV1);
        for (int i = first; i < first + 5; ++i) {
            encode_record(
                SpoolRecord{.sequence = static_cast<std::uint64_t>(i),
                            .time_ms = 1000,
                            .message = message("m" + std::to_string(i), 1, "t/x", "not-in-v1")},
                file, RecordFormat::v1);
        }
        char name[32];
        std::snprintf(name, sizeof name, "/%016x.seg", first);
        std::ofstream(spool_dir + name, std::ios::binary) << file;
    }
    {
        auto spool = Spool::open(options(), log);
        ASSERT_NE(spool, nullptr);
        EXPECT_EQ(spool->counters().recovered, 10u);
        EXPECT_EQ(spool->counters().lost, 0u);
        const auto records = take_all(*spool);
        EXPECT_EQ(payloads(records), numbered(0, 10));
        for (const auto& r : records) EXPECT_EQ(r.message.rule, "");
        for (int i = 0; i < 3; ++i) spool->acknowledge(records[i].sequence);
        // New records go to a new NBSPOOL2 segment after the old ones, with their rule.
        ASSERT_EQ(spool->append(message("new", 1, "t/x", "r"), 0), Spool::Append::stored);
        const auto fresh = spool->next(0);
        ASSERT_TRUE(fresh.has_value());
        EXPECT_EQ(fresh->sequence, 10u);
        EXPECT_EQ(fresh->message.rule, "r");
    }
    EXPECT_EQ(log.count_containing("damaged"), 0) << testing::PrintToString(log.lines());
    const auto files = segment_files(spool_dir);
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(test::read_file(files[2]).substr(0, 8), kSegmentMagic);
    // Mixed formats recover together after a restart.
    auto spool = Spool::open(options(), log);
    ASSERT_NE(spool, nullptr);
    const auto records = take_all(*spool);
    auto expected = numbered(3, 10);
    expected.push_back("new");
    EXPECT_EQ(payloads(records), expected);
    EXPECT_EQ(records.back().message.rule, "r");
}

TEST_F(SpoolTest, ARecordLargerThanTheMappedSegmentIsWrittenAroundIt) {
    // Records that do not fit the active segment's mapping go through pwrite() instead.
    const std::string big(2000, 'b');
    {
        auto spool = Spool::open(options(/*segment_bytes=*/300), log);
        ASSERT_NE(spool, nullptr);
        ASSERT_EQ(spool->append(message("small-1"), 0), Spool::Append::stored);
        ASSERT_EQ(spool->append(message(big), 0), Spool::Append::stored);
        ASSERT_EQ(spool->append(message("small-2"), 0), Spool::Append::stored);
        EXPECT_EQ(payloads(take_all(*spool)),
                  (std::vector<std::string>{"small-1", big, "small-2"}));
    }
    auto spool = Spool::open(options(300), log);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(payloads(take_all(*spool)), (std::vector<std::string>{"small-1", big, "small-2"}));
    EXPECT_EQ(spool->counters().lost, 0u);
    EXPECT_EQ(log.count_containing("damaged"), 0) << testing::PrintToString(log.lines());
}

TEST_F(SpoolTest, AZeroTailFromAKilledWriterIsACleanEnd) {
    // What a process killed while appending leaves: records, then the segment's preallocated
    // zero bytes.
    const std::string spool_dir = dir.path() + "/spool";
    ASSERT_EQ(mkdir(spool_dir.c_str(), 0750), 0);
    std::string file(kSegmentMagic);
    for (int i = 0; i < 4; ++i) {
        encode_record(SpoolRecord{.sequence = static_cast<std::uint64_t>(i),
                                  .message = message("m" + std::to_string(i))},
                      file);
    }
    const std::size_t used = file.size();
    file.append(64 * 1024, '\0');
    const std::string path = spool_dir + "/0000000000000000.seg";
    std::ofstream(path, std::ios::binary) << file;

    auto spool = Spool::open(options(), log);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(payloads(take_all(*spool)), numbered(0, 4));
    EXPECT_EQ(spool->counters().lost, 0u);
    EXPECT_EQ(log.count_containing("damaged"), 0) << testing::PrintToString(log.lines());
    EXPECT_EQ(file_size(path), used);  // the tail is cut off
}

TEST_F(SpoolTest, RecoversTheRecordsBeforeATruncatedOne) {
    {
        auto spool = Spool::open(options(), log);
        for (const auto& p : numbered(0, 5)) spool->append(message(p), 0);
    }
    const auto files = segment_files(dir.path() + "/spool");
    ASSERT_EQ(files.size(), 1u);
    ASSERT_EQ(truncate(files[0].c_str(), static_cast<off_t>(file_size(files[0]) - 3)), 0);

    auto spool = Spool::open(options(), log);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(payloads(take_all(*spool)), numbered(0, 4));
    EXPECT_EQ(log.count_containing("truncated record"), 1) << testing::PrintToString(log.lines());
    EXPECT_EQ(log.count_containing("recovered 4 unacknowledged"), 1);
}

TEST_F(SpoolTest, RecoversAroundACorruptedRecordAndCountsTheLoss) {
    {
        auto spool = Spool::open(options(300), log);
        for (const auto& p : numbered(0, 30)) spool->append(message(p), 0);
    }
    const auto files = segment_files(dir.path() + "/spool");
    ASSERT_GE(files.size(), 3u);
    // Flip a byte in the middle of the first segment's payload area.
    {
        std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(file_size(files[0]) / 2));
        char c = 0;
        f.read(&c, 1);
        f.seekp(static_cast<std::streamoff>(file_size(files[0]) / 2));
        c ^= 0x5A;
        f.write(&c, 1);
    }
    // And garbage that is not a segment, plus an empty segment from a crash at creation.
    std::ofstream(dir.path() + "/spool/notes.txt") << "hello";
    std::ofstream(dir.path() + "/spool/00000000000003e8.seg");

    auto spool = Spool::open(options(300), log);
    ASSERT_NE(spool, nullptr);
    const auto got = payloads(take_all(*spool));
    const auto counters = spool->counters();
    EXPECT_GT(counters.lost, 0u);
    EXPECT_EQ(got.size() + counters.lost, 30u);
    EXPECT_EQ(counters.recovered, got.size());
    // Intact records come in order, and the last segments are whole.
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end(), [](const auto& a, const auto& b) {
        return std::stoi(a.substr(1)) < std::stoi(b.substr(1));
    }));
    EXPECT_EQ(got.back(), "m29");
    EXPECT_EQ(got.front(), "m0");
    EXPECT_EQ(log.count_containing("messages known lost"), 1)
        << testing::PrintToString(log.lines());
}

TEST_F(SpoolTest, ARecordDamagedAfterOpeningIsSkippedAlone) {
    auto spool = Spool::open(options(), log);
    ASSERT_NE(spool, nullptr);
    for (const auto& p : numbered(0, 3)) spool->append(message(p), 0);
    // Flip a payload byte of the middle record on disk, behind the spool's back.
    const auto files = segment_files(dir.path() + "/spool");
    ASSERT_EQ(files.size(), 1u);
    const std::uint64_t record_bytes = kRecordHeaderBytes + kRecordFixedBody + 3 + 2;  // no rule
    {
        std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(kSegmentMagic.size() + 2 * record_bytes - 1));
        f.put('#');
    }
    const auto records = take_all(*spool);
    EXPECT_EQ(payloads(records), (std::vector<std::string>{"m0", "m2"}));
    EXPECT_EQ(spool->counters().lost, 1u);
    for (const auto& r : records) spool->acknowledge(r.sequence);
    EXPECT_EQ(spool->counters().records, 0u);
    EXPECT_EQ(log.count_containing("checksum mismatch; record skipped"), 1);
    EXPECT_EQ(spool->append(Message{.topic = "", .payload = "x", .qos = 1}, 0),
              Spool::Append::failed);
}

TEST_F(SpoolTest, OneProcessAtATimeAndUnwritableDirectoriesFallBack) {
    auto first = Spool::open(options(), log);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(Spool::open(options(), log), nullptr);
    EXPECT_EQ(log.count_containing("in use by another process"), 1);
    first.reset();
    EXPECT_NE(Spool::open(options(), log), nullptr);

    // A path below a regular file cannot be created, even by root.
    const std::string file = dir.write("plain", "x");
    EXPECT_EQ(Spool::open(SpoolOptions{.dir = file + "/spool"}, log), nullptr);
    EXPECT_EQ(log.count_containing("cannot create directory"), 1);
}

// Issue #25, part 3: the directory made unwritable under a running spool (made immutable here,
// which holds for root too). The open segment keeps taking records; what needs the directory
// (the ack floor, a new segment, removing a finished one) fails, and problem() says so until
// the directory can be written again.
TEST_F(SpoolTest, ADirectoryThatCannotBeWrittenIsAProblemUntilItCanAgain) {
    const std::string spool_dir = dir.path() + "/spool";
    auto spool = Spool::open(options(/*segment_bytes=*/300), log);
    ASSERT_NE(spool, nullptr);
    const auto deliver_all = [&] {
        for (const auto& r : take_all(*spool)) spool->acknowledge(r.sequence);
    };
    spool->append(message("m0"), 0);
    deliver_all();
    spool->sync();
    EXPECT_EQ(spool->problem(), "");

    test::ImmutableDir frozen(spool_dir);
    if (!frozen.ok()) GTEST_SKIP() << "cannot make a directory immutable here: " << frozen.why();
    EXPECT_EQ(spool->append(message("m1"), 0), Spool::Append::stored);  // the open segment
    deliver_all();
    spool->sync();
    EXPECT_NE(spool->problem().find("cannot write '" + spool_dir + "/acked'"), std::string::npos)
        << spool->problem();
    // Once the open segment is full, no new one can be made.
    int stored = 0;
    Spool::Append last = Spool::Append::stored;
    for (int i = 0; i < 50 && last == Spool::Append::stored; ++i) {
        last = spool->append(message("x" + std::to_string(i)), 0);
        if (last == Spool::Append::stored) ++stored;
    }
    EXPECT_EQ(last, Spool::Append::failed);
    EXPECT_NE(spool->problem().find("cannot create a segment in '" + spool_dir + "'"),
              std::string::npos)
        << spool->problem();
    EXPECT_GE(spool->counters().write_errors, 1u);

    frozen.release();
    spool->sync();
    EXPECT_EQ(spool->problem(), "");
    EXPECT_EQ(spool->append(message("after"), 0), Spool::Append::stored);
    std::vector<std::string> expected;
    for (int i = 0; i < stored; ++i) expected.push_back("x" + std::to_string(i));
    expected.push_back("after");
    EXPECT_EQ(payloads(take_all(*spool)), expected);  // nothing stored was lost
}

TEST_F(SpoolTest, DropOldestKeepsTheSpoolWithinMaxBytes) {
    auto o = options(400);
    o.max_bytes = 2000;
    auto spool = Spool::open(o, log);
    ASSERT_NE(spool, nullptr);
    for (const auto& p : numbered(0, 200)) {
        ASSERT_EQ(spool->append(message(p), 0), Spool::Append::stored);
        ASSERT_LE(spool->counters().bytes, 2000u);
    }
    const auto counters = spool->counters();
    EXPECT_GT(counters.dropped_full, 0u);
    const auto got = payloads(take_all(*spool));
    EXPECT_EQ(got.size() + counters.dropped_full, 200u);
    EXPECT_EQ(got.back(), "m199");  // the newest are kept
}

TEST_F(SpoolTest, DropNewestRefusesOnceFull) {
    auto o = options(400);
    o.max_bytes = 2000;
    o.on_full = SpoolOnFull::drop_newest;
    auto spool = Spool::open(o, log);
    ASSERT_NE(spool, nullptr);
    int stored = 0;
    for (const auto& p : numbered(0, 200)) {
        if (spool->append(message(p), 0) == Spool::Append::stored) ++stored;
    }
    EXPECT_GT(stored, 10);
    EXPECT_EQ(spool->counters().dropped_full, 200u - stored);
    EXPECT_EQ(payloads(take_all(*spool)), numbered(0, stored));  // the oldest are kept
}

TEST_F(SpoolTest, ExpiredRecordsAreDroppedAndCounted) {
    auto o = options(300);
    o.max_age = 10s;
    auto spool = Spool::open(o, log);
    ASSERT_NE(spool, nullptr);
    for (int i = 0; i < 30; ++i) spool->append(message("old" + std::to_string(i)), 1'000);
    spool->append(message("fresh"), 20'000);
    // Whole segments of old records go at once.
    spool->expire(15'000);
    const auto after_expire = spool->counters().dropped_expired;
    EXPECT_GT(after_expire, 0u);
    // The rest are skipped when read.
    EXPECT_EQ(payloads(take_all(*spool, 15'000)), std::vector<std::string>{"fresh"});
    EXPECT_EQ(spool->counters().dropped_expired, 30u);
}

}  // namespace
}  // namespace nodebridge
