// Docs that match the program (issue #14):
//   - every option nodebridged --help and nodebridge-sim --help print (and every simulator
//     command) is set in bold in nodebridged(8) or nodebridge-sim(1);
//   - every key the config loader accepts is in docs/*.md (in a `code` span) and in
//     nodebridge.yaml(5) (in bold).
// The accepted keys come from the loader itself: LoadOptions::known_keys records every key
// each map reader looks up, whether the file has it or not, while the loader reads every
// shipped config, every tests/cases config and the model library. A key literal in
// src/config/*.cpp that none of them reaches means a section no config exercises; that fails
// too, so the corpus cannot silently miss a section.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kSource = NODEBRIDGE_SOURCE_DIR;

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// True when `word` occurs in `text` with no word character (letters, digits, `_`, `-`)
// right before or after it.
bool has_word(const std::string& text, const std::string& word) {
    const auto word_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    };
    for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const std::size_t end = at + word.size();
        if ((at == 0 || !word_char(text[at - 1])) && (end == text.size() || !word_char(text[end])))
            return true;
    }
    return false;
}

bool in_any(const std::vector<std::string>& fragments, const std::string& word) {
    return std::any_of(fragments.begin(), fragments.end(),
                       [&](const std::string& fragment) { return has_word(fragment, word); });
}

// ---- what a man page sets in bold ----------------------------------------------------

// The arguments of a macro line, split at blanks outside double quotes.
std::vector<std::string> macro_arguments(const std::string& line) {
    std::vector<std::string> out;
    std::string current;
    bool quoted = false;
    bool any = false;
    for (const char c : line) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
        } else if ((c == ' ' || c == '\t') && !quoted) {
            if (any) out.push_back(current);
            current.clear();
            any = false;
        } else {
            current += c;
            any = true;
        }
    }
    if (any) out.push_back(current);
    return out;
}

// `\-` as `-`; other escapes (\fB, \(em, \&) dropped.
std::string unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
            continue;
        }
        const char next = text[++i];
        if (next == '-') {
            out += '-';
        } else if (next == 'f') {
            ++i;  // \fB
        } else if (next == '(') {
            i += 2;  // \(em
        }
    }
    return out;
}

// The text a man page's source sets in bold: .B lines, the bold arguments of .BR .RB .BI .IB,
// and \fB...\fR spans, unescaped.
std::vector<std::string> man_bold(const fs::path& page) {
    std::vector<std::string> out;
    std::istringstream in(file_text(page));
    for (std::string line; std::getline(in, line);) {
        const std::string macro = line.substr(0, line.find(' '));
        const std::string rest = line.size() > macro.size() ? line.substr(macro.size() + 1) : "";
        const auto args = macro_arguments(rest);
        if (macro == ".B") {
            out.push_back(unescape(rest));
        } else if (macro == ".BR" || macro == ".BI" || macro == ".RB" || macro == ".IB") {
            const std::size_t first_bold = macro[1] == 'B' ? 0 : 1;
            for (std::size_t i = first_bold; i < args.size(); i += 2)
                out.push_back(unescape(args[i]));
        }
        for (std::size_t at = line.find("\\fB"); at != std::string::npos;
             at = line.find("\\fB", at + 3)) {
            const std::size_t end = line.find("\\f", at + 3);
            out.push_back(
                unescape(line.substr(at + 3, end == std::string::npos ? end : end - at - 3)));
        }
    }
    return out;
}

// ---- what Markdown sets as code ----------------------------------------------------

// The `code` spans of every docs/*.md (fenced examples are not documentation of a key).
std::vector<std::string> markdown_code(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".md") continue;
        std::istringstream in(file_text(entry.path()));
        bool fenced = false;
        for (std::string line; std::getline(in, line);) {
            if (line.find("```") != std::string::npos) {
                fenced = !fenced;
                continue;
            }
            if (fenced) continue;
            for (std::size_t open = line.find('`'); open != std::string::npos;) {
                const std::size_t close = line.find('`', open + 1);
                if (close == std::string::npos) break;
                out.push_back(line.substr(open + 1, close - open - 1));
                open = line.find('`', close + 1);
            }
        }
    }
    return out;
}

TEST(ManBold, ReadsTheMacrosAndFontEscapes) {
    nodebridge::test::TempDir dir;
    const std::string page = dir.write("x.1",
                                       ".B \\-\\-wire\n"
                                       ".BI \"\\-c, \\-\\-config \" file\n"
                                       ".RB [ \\-\\-seed\n"
                                       ".BR \\-\\-parity \" none, \" \\-\\-stop\\-bits \" 1|2\"\n"
                                       "plain \\fBon_change\\fR text --quiet\n");
    const auto bold = man_bold(page);
    for (const char* word :
         {"--wire", "-c", "--config", "--seed", "--parity", "--stop-bits", "on_change"}) {
        EXPECT_TRUE(in_any(bold, word)) << word;
    }
    for (const char* word : {"file", "none", "--quiet", "plain", "--stop"}) {
        EXPECT_FALSE(in_any(bold, word)) << word;
    }
}

// ---- command-line options ------------------------------------------------------------

std::string help_of(const std::vector<std::string>& argv) {
    nodebridge::test::TempDir dir;
    nodebridge::test::Process process(argv, dir.path() + "/help.log");
    const auto code = process.wait_for_exit(10s);
    EXPECT_EQ(code, 0) << argv[0] << " --help:\n" << process.output();
    return process.output();
}

// The options a --help text names: words starting with - or -- after a blank, `[`, `(`,
// `|` or `,`.
std::set<std::string> options_in(const std::string& help) {
    std::set<std::string> out;
    const std::regex option(R"((?:^|[\s\[(|,])(--?[A-Za-z][A-Za-z0-9-]*))");
    for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) {
        out.insert((*it)[1]);
    }
    return out;
}

TEST(DocumentedOptions, EveryNodebridgedOptionIsInItsManPage) {
    const std::string help = help_of({NODEBRIDGED_PATH, "--help"});
    const auto options = options_in(help);
    ASSERT_GE(options.size(), 5u) << help;  // the parse found the options at all
    const auto bold = man_bold(kSource / "docs/man/nodebridged.8");
    for (const std::string& option : options) {
        EXPECT_TRUE(in_any(bold, option))
            << "nodebridged --help lists " << option << ", docs/man/nodebridged.8 does not";
    }
}

TEST(DocumentedOptions, EverySimulatorCommandAndOptionIsInItsManPage) {
    const std::string help = help_of({SIM_PATH, "--help"});
    const auto bold = man_bold(kSource / "docs/man/nodebridge-sim.1");
    // "commands:" then one "  NAME --option ..." line per command.
    std::set<std::string> commands;
    std::istringstream in(help.substr(help.find("commands:")));
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("  ") && !line.starts_with("   ")) {
            commands.insert(line.substr(2, line.find(' ', 2) - 2));
        }
    }
    ASSERT_GE(commands.size(), 3u) << help;
    for (const std::string& command : commands) {
        EXPECT_TRUE(in_any(bold, command)) << "nodebridge-sim --help lists the command " << command
                                           << ", docs/man/nodebridge-sim.1 does not";
    }
    const auto options = options_in(help);
    ASSERT_GE(options.size(), 10u) << help;
    for (const std::string& option : options) {
        EXPECT_TRUE(in_any(bold, option))
            << "nodebridge-sim --help lists " << option << ", docs/man/nodebridge-sim.1 does not";
    }
}

TEST(DocumentedOptions, EveryNodebridgeCommandOptionIsInItsManPage) {
    const std::string help = help_of({NODEBRIDGE_CLI_PATH, "--help"});
    const auto options = options_in(help);
    ASSERT_GE(options.size(), 5u) << help;
    const auto bold = man_bold(kSource / "docs/man/nodebridge.1");
    for (const std::string& option : options) {
        EXPECT_TRUE(in_any(bold, option))
            << "nodebridge --help lists " << option << ", docs/man/nodebridge.1 does not";
    }
}

// ---- config keys ------------------------------------------------------------------------

// Every key the loader looked up while reading the shipped configs, the config cases and
// the model library, with the first map it was seen in.
std::map<std::string, std::string> accepted_keys() {
    std::vector<ConfigKey> seen;
    std::vector<fs::path> files;
    std::map<fs::path, std::vector<std::string>> model_dirs;
    // The shipped configs are read as the package reads them: with the model library (the
    // demo's config names a library model).
    for (const auto& entry : fs::directory_iterator(kSource / "config/examples")) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    files.push_back(kSource / "config/nodebridge.yaml");
    for (const fs::path& file : files) model_dirs[file] = {(kSource / "models").string()};
    const std::size_t shipped = files.size();
    for (const auto& entry : fs::directory_iterator(kSource / "tests/cases")) {
        const fs::path config = entry.path() / "config.yaml";
        if (!fs::exists(config)) continue;
        files.push_back(config);
        if (fs::is_directory(entry.path() / "models")) {
            model_dirs[config] = {(entry.path() / "models").string()};
        }
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
        LoadOptions options;
        options.model_dirs = model_dirs[files[i]];
        options.known_keys = &seen;
        const LoadResult result = load_config(files[i].string(), options);
        // A shipped config that stopped loading would hide the keys after its error.
        if (i < shipped) {
            EXPECT_TRUE(result.errors.empty()) << files[i];
        }
    }
    LoadOptions library;
    library.model_dirs = {(kSource / "models").string()};
    library.known_keys = &seen;
    EXPECT_TRUE(load_models(library).errors.empty());

    std::map<std::string, std::string> out;
    for (const ConfigKey& key : seen) out.emplace(key.key, key.map);
    return out;
}

// The key names src/config/*.cpp passes to a map reader as literals: map.text("host", ...).
std::set<std::string> key_literals_in_sources() {
    std::set<std::string> out;
    const std::regex lookup(
        R"(\.(?:find|require|text|integer|number|boolean|duration|text_list|choice)\("([a-z_][a-z0-9_]*)\")");
    for (const auto& entry : fs::directory_iterator(kSource / "src/config")) {
        if (entry.path().extension() != ".cpp") continue;
        const std::string text = file_text(entry.path());
        for (std::sregex_iterator it(text.begin(), text.end(), lookup), end; it != end; ++it) {
            out.insert((*it)[1]);
        }
    }
    return out;
}

TEST(DocumentedKeys, TheConfigsReachEveryKeyTheSourcesLookUp) {
    const auto keys = accepted_keys();
    const auto literals = key_literals_in_sources();
    ASSERT_GE(literals.size(), 50u);  // the pattern still matches how the readers are called
    for (const std::string& literal : literals) {
        EXPECT_TRUE(keys.count(literal))
            << "src/config reads the key '" << literal
            << "' but no config under config/ or tests/cases reaches the map it is in: add a "
               "case that has that section, so its keys are checked against the docs";
    }
}

TEST(DocumentedKeys, EveryAcceptedKeyIsInTheDocsAndTheManPage) {
    const auto keys = accepted_keys();
    ASSERT_GE(keys.size(), 50u);
    const auto markdown = markdown_code(kSource / "docs");
    const auto man = man_bold(kSource / "docs/man/nodebridge.yaml.5");
    for (const auto& [key, map] : keys) {
        EXPECT_TRUE(in_any(markdown, key))
            << "the key '" << key << "' (" << map
            << ") is in no `code` span of docs/configuration.md or the other docs/*.md";
        EXPECT_TRUE(in_any(man, key))
            << "the key '" << key << "' (" << map
            << ") is not set in bold anywhere in docs/man/nodebridge.yaml.5";
    }
}

}  // namespace
}  // namespace nodebridge
