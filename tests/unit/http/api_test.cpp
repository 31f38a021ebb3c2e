#include "api.hpp"

#include <gtest/gtest.h>

#include "support/json.hpp"

namespace nodebridge::http {
namespace {

using test::Json;
using test::parse_json;

View many_nodes(int count) {
    View view;
    view.gateway = "gw";
    auto nodes = std::make_shared<NodesSnapshot>();
    SourceStats source;
    for (int i = 0; i < count; ++i) {
        NodeSummary node;
        node.source = i % 2 == 0 ? "even" : "odd";
        node.node = "node-" + std::to_string(i);
        node.has_reading = true;
        node.last_reading = SteadyClock::now();
        node.attributes = {{"t", Value(21.5), "°C"}};
        nodes->nodes.push_back(node);
        if (i % 2 == 1) source.nodes.emplace_back(node.node, i != 7);
    }
    view.stats.sources.emplace_back("odd", source);
    view.nodes = nodes;
    return view;
}

Json parsed(const std::string& text) {
    std::string error;
    auto json = parse_json(text, &error);
    EXPECT_TRUE(json) << error << "\n" << text;
    return json ? *json : Json{};
}

TEST(Api, NodesArePagedFilteredAndBounded) {
    const View view = many_nodes(3000);
    const auto now = SteadyClock::now();
    Json page = parsed(nodes_json(view, {.offset = 100, .limit = 10}, now));
    EXPECT_EQ(page.find("total")->number(), 3000);
    EXPECT_EQ(page.find("matched")->number(), 3000);
    ASSERT_EQ(page.find("nodes")->array().size(), 10u);
    EXPECT_EQ(page.find("nodes")->array()[0].text("node"), "node-100");

    page = parsed(nodes_json(view, {.limit = 100'000}, now));
    EXPECT_EQ(page.find("nodes")->array().size(), kMaxPage);

    page = parsed(nodes_json(view, {.text = "NODE-29", .source = "odd"}, now));
    EXPECT_EQ(page.find("matched")->number(), 56);  // 29, 291..299 odd, 2901..2999 odd

    page = parsed(nodes_json(view, {.state = "offline"}, now));
    ASSERT_EQ(page.find("matched")->number(), 1);
    EXPECT_EQ(page.find("nodes")->array()[0].text("node"), "node-7");
    const Json& attribute = page.find("nodes")->array()[0].find("attributes")->array()[0];
    EXPECT_EQ(attribute.text("unit"), "°C");
    EXPECT_EQ(attribute.find("value")->number(), 21.5);
}

TEST(Api, StatusSaysWhatIsWrong) {
    View view = many_nodes(0);
    SourceStats source;
    source.nodes_total = 3;
    source.nodes_online = 2;
    source.errors = {{"timeout", 4}};
    source.last_error = "read timed out";
    view.stats.sources = {{"bus", source}};
    view.spool_state = "off";
    Json status = parsed(status_json(view, SteadyClock::now()));
    const Json& gateway = *status.find("gateway");
    EXPECT_EQ(gateway.text("health"), "degraded");
    std::vector<std::string> problems;
    for (const Json& p : gateway.find("problems")->array()) problems.push_back(p.string());
    EXPECT_EQ(problems, (std::vector<std::string>{"broker disconnected", "1 of 3 nodes offline"}));
    EXPECT_EQ(status.find("sources")->array()[0].find("errors")->find("timeout")->number(), 4);
}

TEST(Api, OneNodeWithItsHistory) {
    const View view = many_nodes(4);
    std::vector<Series> history{{"t", "°C", {{1000, 1.5}, {2000, 2.5}}}};
    auto body = node_json(view, "odd", "node-1", history, SteadyClock::now());
    ASSERT_TRUE(body);
    Json node = parsed(*body);
    EXPECT_EQ(node.find("history")->array()[0].find("points")->array().size(), 2u);
    EXPECT_FALSE(node_json(view, "odd", "node-2", history, SteadyClock::now()));
}

}  // namespace
}  // namespace nodebridge::http
