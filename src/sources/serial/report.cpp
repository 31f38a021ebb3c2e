#include "sources/serial/report.hpp"

#include "sources/serial/value_text.hpp"

namespace nodebridge::serial {

std::string_view to_string(LineError error) {
    switch (error) {
        case LineError::none:
            return "ok";
        case LineError::empty:
            return "empty";
        case LineError::malformed:
            return "garbage";
        case LineError::invalid_utf8:
            return "invalid_utf8";
        case LineError::no_node_id:
            return "no_node_id";
        case LineError::bad_node_id:
            return "bad_node_id";
    }
    return "unknown";
}

void Report::clear() {
    node.clear();
    time.reset();
    bad_time = false;
    attributes.clear();
}

ReportBuilder::ReportBuilder(KeyNames keys) : keys_(std::move(keys)) {}

void ReportBuilder::begin(Report& report) {
    report.clear();
    report_ = &report;
    have_node_ = have_id_ = have_time_ = false;
}

ReportBuilder::Special ReportBuilder::classify(std::string_view key) const {
    if (!keys_.time_key.empty() && key == keys_.time_key) return Special::time;
    if (keys_.node_key.empty()) {
        if (key == "node") return Special::node;
        if (key == "id") return Special::id_fallback;
    } else if (key == keys_.node_key) {
        return Special::node;
    }
    return Special::none;
}

bool ReportBuilder::check_key(std::string_view key) const {
    if (key.empty() || key.size() > kMaxKeyBytes) return false;
    for (const char c : key) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    }
    if (report_->attributes.size() >= kMaxAttributes) return false;
    for (const Attribute& attribute : report_->attributes) {
        if (attribute.name == key) return false;
    }
    return true;
}

bool ReportBuilder::take_special(Special special, std::string_view raw) {
    switch (special) {
        case Special::node:
            if (have_node_) return false;
            have_node_ = true;
            report_->node.assign(raw);
            return true;
        case Special::id_fallback:
            if (have_id_) return false;
            have_id_ = true;
            id_text_.assign(raw);
            return true;
        case Special::time:
            if (have_time_) return false;
            have_time_ = true;
            time_text_.assign(raw);
            return true;
        case Special::none:
            break;
    }
    return false;
}

bool ReportBuilder::add_text(std::string_view key, std::string_view text) {
    const Special special = classify(key);
    if (special != Special::none) return take_special(special, text);
    if (!check_key(key)) return false;
    report_->attributes.push_back(Attribute{std::string(key), parse_value_text(text), {}});
    return true;
}

bool ReportBuilder::add_value(std::string_view key, std::string_view raw, Value value) {
    const Special special = classify(key);
    if (special != Special::none) return take_special(special, raw);
    if (!check_key(key)) return false;
    report_->attributes.push_back(Attribute{std::string(key), std::move(value), {}});
    return true;
}

LineError ReportBuilder::finish() {
    Report& report = *report_;
    if (have_id_) {
        if (have_node_) {
            // "node" wins; "id" is then an ordinary attribute.
            if (!check_key("id")) return LineError::malformed;
            report.attributes.push_back(Attribute{"id", parse_value_text(id_text_), {}});
        } else {
            report.node.assign(id_text_);
            have_node_ = true;
        }
    }
    if (!have_node_) return LineError::no_node_id;
    if (report.node.empty() || report.node.size() > kMaxNodeIdBytes) return LineError::bad_node_id;
    for (const char c : report.node) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) return LineError::bad_node_id;
    }
    if (have_time_) {
        report.time = parse_timestamp(time_text_);
        report.bad_time = !report.time.has_value();
    }
    return LineError::none;
}

}  // namespace nodebridge::serial
