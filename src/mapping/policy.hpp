#pragma once
// Publish policies: the small state kept per key that decides whether a reading becomes a
// message now, later, or never. A key is (rule, source, node, attribute) for per-attribute
// rules and (rule, source, node) for per-node rules; docs/mapping.md gives the user's view.
//
// The rules, for one key with its Policy:
//   - A reading "passes" when on_change is off, when nothing was published yet, when it
//     differs from the last published value (numbers: |new - last| > deadband; NaN differs
//     from every number but not from NaN; other types: inequality), or when the heartbeat is
//     overdue (now - last publish >= heartbeat).
//   - A passing reading is published at once, unless min_interval has not elapsed since the
//     last publish: then it is held (latest held reading wins) until tick() at
//     last publish + min_interval.
//   - A reading that does not pass drops any held reading (the latest reading is what
//     counts) and, with a heartbeat, marks the key "fresh": tick() republishes the latest
//     reading at last publish + max(heartbeat, min_interval). A key that saw no reading since
//     its last publish has nothing to republish, so a silent device stops its heartbeats
//     after one more message instead of repeating a stale value forever.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "nodebridge/sample.hpp"

namespace nodebridge::mapping {

struct Policy {
    bool on_change = false;
    double deadband = 0.0;                  // only with on_change; >= 0
    SteadyClock::duration heartbeat{0};     // 0 = none
    SteadyClock::duration min_interval{0};  // 0 = none

    // True when keys must remember their latest reading for tick().
    bool keeps_latest() const {
        return heartbeat > SteadyClock::duration::zero() ||
               min_interval > SteadyClock::duration::zero();
    }
    // True when the policy needs any per-key state at all.
    bool stateful() const { return on_change || keeps_latest(); }
};

// A compact copy of a Value (16 bytes instead of 40): text, which is rare, lives in a string
// that is allocated once per key and reused while the value stays text.
class StoredValue {
  public:
    StoredValue() = default;
    ~StoredValue() { release(); }
    StoredValue(const StoredValue&) = delete;
    StoredValue& operator=(const StoredValue&) = delete;
    StoredValue(StoredValue&& other) noexcept;
    StoredValue& operator=(StoredValue&& other) noexcept;

    bool empty() const { return kind_ == Kind::none; }
    void assign(const Value& value);
    void assign(const StoredValue& other);

    // True when `value` counts as a change from this one (see the rules above); always
    // true when this is empty.
    bool differs(const Value& value, double deadband) const;

    // Appends the value as append_value_text() / append_value_json() would. Empty appends
    // nothing (text) or null (JSON).
    void append_text(std::string& out) const;
    void append_json(std::string& out) const;

  private:
    enum class Kind : std::uint8_t { none, number, integer, boolean, text };
    void release();
    void take(StoredValue& other) noexcept;
    void assign_text(std::string_view text);

    Kind kind_ = Kind::none;
    union {
        double number_;
        std::int64_t integer_ = 0;
        bool boolean_;
        std::string* text_;  // owned while kind_ == text
    };
};

// The state of one key. Per-node rules keep one KeyState for the node message's timing and
// one per attribute for its values.
struct KeyState {
    StoredValue last_published;              // on_change reference
    StoredValue latest;                      // the latest reading, for heartbeat and held messages
    WallClock::time_point latest_time{};     // sample time of `latest`
    SteadyClock::time_point last_publish{};  // when the key was last published
    SteadyClock::time_point scheduled = SteadyClock::time_point::max();  // see Mapper
    bool has_published = false;
    bool pending = false;    // a reading is held back by min_interval
    bool fresh = false;      // a reading was seen since the last publish (heartbeat)
    bool in_latest = false;  // per-node rules: the attribute was in the latest sample
};

enum class Verdict { publish, hold, suppress };

// Decides what a new reading does at `now`; `changed` is the on_change comparison (pass
// true when on_change is off). Updates `state`'s flags and, on publish, last_publish; the
// caller stores the values themselves.
Verdict admit(const Policy& policy, KeyState& state, bool changed, SteadyClock::time_point now);

// When tick() must next look at `state`: time_point::max() when nothing is pending.
SteadyClock::time_point deadline(const Policy& policy, const KeyState& state);

// Records that tick() published the latest reading at `now`.
void note_republished(const Policy& policy, KeyState& state, SteadyClock::time_point now);

}  // namespace nodebridge::mapping
