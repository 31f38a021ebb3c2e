#include "metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>
#include <sstream>

namespace nodebridge::http {
namespace {

View sample_view() {
    View view;
    view.gateway = "gw-1";
    view.spool_state = "unavailable (cannot write in '/x': Permission denied)";
    view.stats.samples = 42;
    view.stats.publisher.connected = true;
    view.stats.publisher.published = 40;
    SourceStats source;
    source.polls = 7;
    source.errors = {{"timeout", 2}, {"exception", 1}};
    source.nodes_total = 2;
    source.nodes_online = 1;
    source.nodes = {{"a\"b\\c\nd", true}, {"plain", false}};
    view.stats.sources.emplace_back("bus \"one\"", source);
    auto nodes = std::make_shared<NodesSnapshot>();
    NodeSummary node;
    node.source = "bus \"one\"";
    node.node = "plain";
    node.has_reading = true;
    node.last_reading = SteadyClock::now() - std::chrono::seconds(3);
    node.attributes = {{"v", Value(230.5), "V"},
                       {"n", Value(std::int64_t{7}), ""},
                       {"ok", Value(true), ""},
                       {"label", Value(std::string("text")), ""},
                       {"bad", Value(std::nan("")), ""}};
    nodes->nodes.push_back(node);
    view.nodes = nodes;
    return view;
}

TEST(Metrics, LabelValuesAreEscapedAsTheFormatSays) {
    std::string out;
    append_label_value("a\"b\\c\nd", out);
    EXPECT_EQ(out, R"(a\"b\\c\nd)");
    const std::string body = render_metrics(sample_view(), SteadyClock::now(), false);
    EXPECT_NE(body.find(R"(nodebridge_node_online{source="bus \"one\"",node="a\"b\\c\nd"} 1)"),
              std::string::npos)
        << body;
}

TEST(Metrics, EveryFamilyHasOneHelpAndOneTypeBeforeItsSamples) {
    const std::string body = render_metrics(sample_view(), SteadyClock::now(), true);
    std::istringstream lines(body);
    std::string line;
    std::set<std::string> typed;
    std::set<std::string> helped;
    std::string current;
    const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$)");
    while (std::getline(lines, line)) {
        std::smatch m;
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(helped.insert(name).second) << "second HELP for " << name;
            current = name;
        } else if (line.rfind("# TYPE ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(typed.insert(name).second) << "second TYPE for " << name;
            EXPECT_EQ(name, current);
            const std::string type = line.substr(8 + name.size());
            EXPECT_TRUE(type == "counter" || type == "gauge") << line;
            if (type == "counter") {
                EXPECT_TRUE(name.ends_with("_total")) << name;
            }
        } else {
            ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
            EXPECT_EQ(m[1].str(), current) << line;
        }
    }
    EXPECT_TRUE(body.ends_with("\n"));
    EXPECT_NE(body.find("nodebridge_samples_total 42\n"), std::string::npos);
    EXPECT_NE(body.find(R"(nodebridge_source_errors_total{source="bus \"one\"",kind="timeout"} 2)"),
              std::string::npos);
    EXPECT_NE(body.find(R"(nodebridge_spool_state{state="unavailable"} 1)"), std::string::npos);
}

TEST(Metrics, ReadingsOnlyWhenAskedAndOnlyNumbers) {
    const View view = sample_view();
    EXPECT_EQ(render_metrics(view, SteadyClock::now(), false).find("nodebridge_reading"),
              std::string::npos);
    const std::string body = render_metrics(view, SteadyClock::now(), true);
    EXPECT_NE(
        body.find(
            R"(nodebridge_reading{source="bus \"one\"",node="plain",attribute="v",unit="V"} 230.5)"),
        std::string::npos)
        << body;
    EXPECT_NE(body.find(R"(attribute="n",unit=""} 7)"), std::string::npos);
    EXPECT_NE(body.find(R"(attribute="ok",unit=""} 1)"), std::string::npos);
    EXPECT_NE(body.find(R"(attribute="bad",unit=""} NaN)"), std::string::npos);
    EXPECT_EQ(body.find(R"(attribute="label")"), std::string::npos);
}

TEST(Metrics, AgeIsMeasuredFromNow) {
    const View view = sample_view();
    const auto now = view.nodes->nodes[0].last_reading + std::chrono::milliseconds(2500);
    const std::string body = render_metrics(view, now, false);
    EXPECT_NE(
        body.find(
            R"(nodebridge_node_last_reading_age_seconds{source="bus \"one\"",node="plain"} 2.5)"),
        std::string::npos)
        << body;
}

TEST(Metrics, ReadingIntervalBesideTheConfiguredPoll) {
    View view = sample_view();
    auto nodes = std::make_shared<NodesSnapshot>(*view.nodes);
    nodes->nodes[0].readings = 5;
    nodes->nodes[0].interval_s = 1.25;
    view.nodes = nodes;
    auto polls = std::make_shared<PollIntervals>();
    (*polls)[std::string("bus \"one\"") + '\0' + "plain"] = 1.0;
    view.polls = polls;
    const std::string body = render_metrics(view, SteadyClock::now(), false);
    EXPECT_NE(
        body.find(
            R"(nodebridge_node_reading_interval_seconds{source="bus \"one\"",node="plain"} 1.25)"),
        std::string::npos)
        << body;
    EXPECT_NE(
        body.find(R"(nodebridge_node_poll_interval_seconds{source="bus \"one\"",node="plain"} 1)"),
        std::string::npos)
        << body;
}

}  // namespace
}  // namespace nodebridge::http
