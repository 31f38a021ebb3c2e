#include "options.hpp"

#include <gtest/gtest.h>

namespace nodebridge {
namespace {

ParsedOptions parse(std::vector<std::string> args) {
    args.insert(args.begin(), "nodebridged");
    return parse_options(args);
}

TEST(Options, DefaultsToTheInstalledConfig) {
    const auto parsed = parse({});
    ASSERT_TRUE(parsed.options);
    EXPECT_EQ(parsed.options->config_path, "/etc/nodebridge/nodebridge.yaml");
    EXPECT_FALSE(parsed.options->check_config);
    EXPECT_EQ(parsed.options->log_level, LogLevel::info);
}

TEST(Options, ReadsEveryOptionInBothSpellings) {
    const auto parsed = parse({"-c", "a.yaml", "--check-config", "--log-level=debug"});
    ASSERT_TRUE(parsed.options) << parsed.error;
    EXPECT_EQ(parsed.options->config_path, "a.yaml");
    EXPECT_TRUE(parsed.options->check_config);
    EXPECT_EQ(parsed.options->log_level, LogLevel::debug);

    const auto long_form = parse({"--config=b.yaml", "--log-level", "warning", "--version", "-h"});
    ASSERT_TRUE(long_form.options) << long_form.error;
    EXPECT_EQ(long_form.options->config_path, "b.yaml");
    EXPECT_EQ(long_form.options->log_level, LogLevel::warning);
    EXPECT_TRUE(long_form.options->show_version);
    EXPECT_TRUE(long_form.options->show_help);
    EXPECT_FALSE(long_form.options->show_discovery);

    const auto discovery = parse({"--show-discovery", "-c", "c.yaml"});
    ASSERT_TRUE(discovery.options) << discovery.error;
    EXPECT_TRUE(discovery.options->show_discovery);
    EXPECT_NE(usage().find("--show-discovery"), std::string::npos);
}

TEST(Options, ModelDirsAndModelCommands) {
    const auto defaults = parse({});
    ASSERT_TRUE(defaults.options);
    EXPECT_TRUE(defaults.options->model_dirs.empty());  // main() uses default_model_dirs()
    EXPECT_FALSE(defaults.options->list_models);
    EXPECT_FALSE(defaults.options->config_given);

    const auto parsed = parse({"--model-dir", "lib", "--model-dir=site", "--list-models",
                               "--show-model", "sdm630", "-c", "x.yaml"});
    ASSERT_TRUE(parsed.options) << parsed.error;
    EXPECT_EQ(parsed.options->model_dirs, (std::vector<std::string>{"lib", "site"}));
    EXPECT_TRUE(parsed.options->list_models);
    EXPECT_EQ(parsed.options->show_model, "sdm630");
    EXPECT_TRUE(parsed.options->config_given);

    EXPECT_EQ(parse({"--model-dir"}).error, "--model-dir needs a value");
    EXPECT_EQ(parse({"--model-dir="}).error, "--model-dir needs a directory");
    EXPECT_EQ(parse({"--show-model="}).error, "--show-model needs a model name");
    EXPECT_NE(usage().find("--model-dir DIR"), std::string::npos);
}

TEST(Options, RejectsWhatItDoesNotKnow) {
    EXPECT_EQ(parse({"--bogus"}).error, "unknown option '--bogus'");
    EXPECT_EQ(parse({"-c"}).error, "-c needs a value");
    EXPECT_EQ(parse({"--config="}).error, "--config needs a file");
    EXPECT_NE(parse({"--log-level", "chatty"}).error.find("unknown level 'chatty'"),
              std::string::npos);
}

}  // namespace
}  // namespace nodebridge
