#include "policy.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "encode.hpp"
#include "nodebridge/mapping.hpp"

namespace nodebridge::mapping {
namespace {

bool numbers_differ(double last, double next, double deadband) {
    if (last == next) return false;
    if (std::isnan(last) || std::isnan(next)) return !(std::isnan(last) && std::isnan(next));
    return std::fabs(next - last) > deadband;  // inf - finite is inf: a change
}

}  // namespace

StoredValue::StoredValue(StoredValue&& other) noexcept { take(other); }

StoredValue& StoredValue::operator=(StoredValue&& other) noexcept {
    if (this != &other) {
        release();
        take(other);
    }
    return *this;
}

void StoredValue::take(StoredValue& other) noexcept {
    kind_ = other.kind_;
    switch (kind_) {
        case Kind::none:
            break;
        case Kind::number:
            number_ = other.number_;
            break;
        case Kind::integer:
            integer_ = other.integer_;
            break;
        case Kind::boolean:
            boolean_ = other.boolean_;
            break;
        case Kind::text:
            text_ = other.text_;
            break;
    }
    other.kind_ = Kind::none;  // the string, if any, now belongs to this
}

void StoredValue::release() {
    if (kind_ == Kind::text) delete text_;
    kind_ = Kind::none;
}

void StoredValue::assign_text(std::string_view text) {
    if (kind_ != Kind::text) {
        text_ = new std::string(text);
        kind_ = Kind::text;
    } else {
        text_->assign(text);
    }
}

void StoredValue::assign(const Value& value) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                assign_text(v);
                return;
            }
            release();
            if constexpr (std::is_same_v<T, double>) {
                kind_ = Kind::number;
                number_ = v;
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                kind_ = Kind::integer;
                integer_ = v;
            } else if constexpr (std::is_same_v<T, bool>) {
                kind_ = Kind::boolean;
                boolean_ = v;
            }
        },
        value);
}

void StoredValue::assign(const StoredValue& other) {
    if (this == &other) return;
    if (other.kind_ == Kind::text) {
        assign_text(*other.text_);
        return;
    }
    release();
    kind_ = other.kind_;
    switch (other.kind_) {
        case Kind::none:
            break;
        case Kind::number:
            number_ = other.number_;
            break;
        case Kind::integer:
            integer_ = other.integer_;
            break;
        case Kind::boolean:
            boolean_ = other.boolean_;
            break;
        case Kind::text:
            break;
    }
}

bool StoredValue::differs(const Value& value, double deadband) const {
    switch (kind_) {
        case Kind::none:
            return true;
        case Kind::number:
            if (const auto* d = std::get_if<double>(&value)) {
                return numbers_differ(number_, *d, deadband);
            }
            if (const auto* i = std::get_if<std::int64_t>(&value)) {
                return numbers_differ(number_, static_cast<double>(*i), deadband);
            }
            return true;
        case Kind::integer:
            if (const auto* i = std::get_if<std::int64_t>(&value)) {
                if (deadband == 0.0) return *i != integer_;
                return numbers_differ(static_cast<double>(integer_), static_cast<double>(*i),
                                      deadband);
            }
            if (const auto* d = std::get_if<double>(&value)) {
                return numbers_differ(static_cast<double>(integer_), *d, deadband);
            }
            return true;
        case Kind::boolean: {
            const auto* b = std::get_if<bool>(&value);
            return b == nullptr || *b != boolean_;
        }
        case Kind::text: {
            const auto* s = std::get_if<std::string>(&value);
            return s == nullptr || *s != *text_;
        }
    }
    return true;
}

void StoredValue::append_text(std::string& out) const {
    switch (kind_) {
        case Kind::none:
            break;
        case Kind::number:
            append_number(number_, false, out);
            break;
        case Kind::integer:
            append_value_text(Value(integer_), out);
            break;
        case Kind::boolean:
            out += boolean_ ? "true" : "false";
            break;
        case Kind::text:
            out += *text_;
            break;
    }
}

void StoredValue::append_json(std::string& out) const {
    switch (kind_) {
        case Kind::none:
            out += "null";
            break;
        case Kind::number:
            append_number(number_, true, out);
            break;
        case Kind::integer:
            append_value_text(Value(integer_), out);
            break;
        case Kind::boolean:
            out += boolean_ ? "true" : "false";
            break;
        case Kind::text:
            append_json_string(*text_, out);
            break;
    }
}

Verdict admit(const Policy& policy, KeyState& state, bool changed, SteadyClock::time_point now) {
    bool passes = changed || !state.has_published;
    if (!passes && policy.heartbeat > SteadyClock::duration::zero() &&
        now - state.last_publish >= policy.heartbeat) {
        passes = true;
    }
    if (!passes) {
        state.pending = false;
        state.fresh = policy.heartbeat > SteadyClock::duration::zero();
        return Verdict::suppress;
    }
    if (policy.min_interval > SteadyClock::duration::zero() && state.has_published &&
        now - state.last_publish < policy.min_interval) {
        state.pending = true;
        return Verdict::hold;
    }
    state.has_published = true;
    state.last_publish = now;
    state.pending = false;
    state.fresh = false;
    return Verdict::publish;
}

SteadyClock::time_point deadline(const Policy& policy, const KeyState& state) {
    auto due = SteadyClock::time_point::max();
    if (!state.has_published) return due;
    if (state.pending) due = state.last_publish + policy.min_interval;
    if (state.fresh && policy.heartbeat > SteadyClock::duration::zero()) {
        due = std::min(due, state.last_publish + std::max(policy.heartbeat, policy.min_interval));
    }
    return due;
}

void note_republished(const Policy& policy, KeyState& state, SteadyClock::time_point now) {
    state.last_publish = now;
    state.pending = false;
    state.fresh = false;
    if (policy.on_change) state.last_published.assign(state.latest);
}

}  // namespace nodebridge::mapping
