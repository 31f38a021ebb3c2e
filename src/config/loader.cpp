// load_config(): reads the main file and its includes, hands each part to its reader, runs
// the checks that need everything loaded, and returns the config or every error in file order.

#include <glob.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sections.hpp"

namespace nodebridge {
namespace config_detail {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxIncludeDepth = 16;
constexpr std::size_t kMaxFiles = 512;
constexpr std::size_t kShownPathChars = 4096;

bool has_glob_magic(const std::string& text) {
    return text.find_first_of("*?[") != std::string::npos;
}

// Characters that would let the gateway add topic levels or wildcards.
bool valid_gateway(const std::string& gateway, std::string& error) {
    if (gateway.empty()) {
        error = "gateway: must not be empty";
        return false;
    }
    if (gateway.find_first_of("/+#") != std::string::npos) {
        error = "gateway: must not contain '/', '+' or '#'";
        return false;
    }
    return true;
}

// Walks the documents of `text` without building them and throws YAML::ParserException at a
// token no document can consume (a stray ',' at the top level): yaml-cpp 0.7's LoadAll()
// would start a new empty document at it forever (yaml-cpp issue #1040, fixed upstream in
// 0.8.0 by PR #1319). Other syntax errors throw as LoadAll() would throw them.
class StrayTokenCheck final : public YAML::EventHandler {
  public:
    static void run(const std::string& text) {
        std::istringstream in(text);
        YAML::Parser parser(in);
        StrayTokenCheck check(text);
        while (parser.HandleNextDocument(check)) {
        }
    }

    void OnDocumentStart(const YAML::Mark& mark) override {
        // A document that consumed no token leaves the next one starting where it did.
        if (started_ && mark.pos == last_start_.pos) {
            const auto at = static_cast<std::size_t>(mark.pos);
            const char c = at < text_.size() ? text_[at] : '\0';
            throw YAML::ParserException(mark, c > ' ' && c < 127
                                                  ? std::string("unexpected '") + c + "'"
                                                  : "unexpected token");
        }
        started_ = true;
        last_start_ = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

  private:
    explicit StrayTokenCheck(const std::string& text) : text_(text) {}

    const std::string& text_;
    bool started_ = false;
    YAML::Mark last_start_;
};

class Loader {
  public:
    explicit Loader(const LoadOptions& options) : options_(options) {}

    // Reads the model dirs, then `path` (none: models only).
    LoadResult load(const std::optional<std::string>& main) {
        for (const auto& dir : options_.model_dirs) read_model_dir(dir);
        if (main) read_main(*main);
        // Nodes name models that any file may define, so sources are read once every model
        // is known.
        models_.freeze();
        config_.models = models_.all();
        for (const auto& [node, file] : sources_) {
            const Context ctx{file, &diag_, &models_, options_.known_keys};
            read_sources(node, ctx, config_.sources);
        }
        sources_.clear();
        check_sources_across_files(config_.sources, diag_);
        check_mappings_across_files(config_.mappings, diag_);
        check_sparkplug_devices(config_, diag_);
        check_homeassistant(config_, diag_);

        LoadResult result;
        result.errors = diag_.sorted(order_);
        result.warnings = diag_.sorted_warnings(order_);
        if (result.errors.empty()) {
            config_.files = order_;
            result.config = std::move(config_);
        }
        return result;
    }

  private:
    enum class FileKind { main, included, models };

    void read_main(const std::string& path) {
        const std::string canonical = canonical_of(path);
        if (auto text = read_file(path, std::nullopt)) {
            included_at_.emplace(canonical, std::nullopt);
            stack_.push_back({canonical, path});
            parse_file(path, *text, FileKind::main);
            stack_.pop_back();
        }
    }

    struct Open {
        std::string canonical;
        std::string path;
    };

    static std::string canonical_of(const std::string& path) {
        std::error_code ec;
        fs::path canonical = fs::weakly_canonical(path, ec);
        return ec ? path : canonical.string();
    }

    // The file's text, or nullopt after reporting why it cannot be read. Errors go to the
    // include entry when there is one, else to the file itself.
    std::optional<std::string> read_file(const std::string& path,
                                         const std::optional<Position>& included_from) {
        const Position where = included_from ? *included_from : Position{path, 0, 0};
        const std::string name =
            included_from ? "'" + shown(path, kShownPathChars) + "': " : std::string();
        std::error_code ec;
        const auto status = fs::status(path, ec);
        if (included_from && status.type() == fs::file_type::not_found) {
            diag_.error(where, "include: '" + shown(path, kShownPathChars) + "' does not exist");
            return std::nullopt;
        }
        if (ec || !fs::exists(status)) {
            diag_.error(where, name + "cannot open: " +
                                   (ec ? ec.message() : std::string(std::strerror(ENOENT))));
            return std::nullopt;
        }
        if (!fs::is_regular_file(status)) {
            diag_.error(where, name + "not a regular file");
            return std::nullopt;
        }
        const auto size = fs::file_size(path, ec);
        if (ec || size > kMaxFileBytes) {
            diag_.error(where, name + "larger than 4 MiB");
            return std::nullopt;
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diag_.error(where, name + "cannot open: " + std::strerror(errno));
            return std::nullopt;
        }
        std::string text(static_cast<std::size_t>(size), '\0');
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
        return text;
    }

    // A model directory's *.yaml files in name order; a directory that does not exist holds
    // no models (the site's /etc/nodebridge/models is optional).
    void read_model_dir(const std::string& dir) {
        std::error_code ec;
        const auto status = fs::status(dir, ec);
        if (status.type() == fs::file_type::not_found) return;
        const Position where{dir, 0, 0};
        if (ec || !fs::is_directory(status)) {
            diag_.error(where, "model directory: " + (ec ? ec.message() : "not a directory"));
            return;
        }
        std::vector<std::string> files;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) {
                files.push_back(it->path().string());
            }
        }
        if (ec) {
            diag_.error(where, "model directory: cannot read: " + ec.message());
            return;
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            if (included_at_.size() >= kMaxFiles) {
                diag_.error(where, "model directory: more than 512 files in all");
                return;
            }
            auto text = read_file(file, std::nullopt);
            if (!text) continue;
            included_at_.emplace(canonical_of(file), Position{file, 0, 0});
            parse_file(file, *text, FileKind::models);
        }
    }

    void parse_file(const std::string& path, const std::string& text, FileKind kind) {
        const bool is_main = kind == FileKind::main;
        order_.push_back(path);
        const Context ctx{path, &diag_, nullptr, options_.known_keys};
        std::vector<YAML::Node> documents;
        try {
            StrayTokenCheck::run(text);
            documents = YAML::LoadAll(text);
        } catch (const YAML::Exception& e) {
            const Position where = e.mark.is_null()
                                       ? Position{path, 1, 1}
                                       : Position{path, e.mark.line + 1, e.mark.column + 1};
            diag_.error(where, "YAML syntax error: " + e.msg);
            return;
        }
        if (documents.size() > 1) {
            ctx.error(position_of(documents[1], ctx), "a config file holds one YAML document");
        }
        const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
        if (!is_main && root.IsNull()) return;  // an empty included file adds nothing
        MapReader top(root, ctx,
                      is_main                      ? "the config file"
                      : kind == FileKind::included ? "the included file"
                                                   : "the model file");
        if (!top.is_map()) return;
        if (kind == FileKind::models) {
            // A model file holds `models:` and nothing else; finish() names any other key.
            if (auto models = top.require("models")) read_models(*models, ctx, models_);
            top.finish();
            return;
        }

        if (is_main) {
            std::string gateway;
            if (top.text("gateway", gateway, true)) {
                std::string error;
                if (valid_gateway(gateway, error)) {
                    config_.gateway = gateway;
                } else {
                    ctx.error(top.value_position("gateway"), error);
                }
            }
            read_mqtt(top.find("mqtt").value_or(YAML::Node(YAML::NodeType::Undefined)), ctx,
                      config_.gateway, config_.mqtt);
            read_stats(top.find("stats").value_or(YAML::Node(YAML::NodeType::Undefined)), ctx,
                       config_.gateway, config_.stats);
            if (auto sparkplug = top.find("sparkplug")) {
                read_sparkplug(*sparkplug, ctx, config_.gateway, config_.sparkplug);
            }
            if (auto homeassistant = top.find("homeassistant")) {
                read_homeassistant(*homeassistant, ctx, config_.homeassistant);
            }
            if (auto http = top.find("http")) read_http(*http, ctx, config_.http);
        } else {
            for (const char* key : {"gateway", "mqtt", "stats", "sparkplug", "homeassistant",
                                    "http"}) {
                if (top.find(key)) {
                    ctx.error(top.key_position(key),
                              std::string(key) + ": can only be set in the main config file");
                }
            }
        }
        if (auto models = top.find("models")) read_models(*models, ctx, models_);
        if (auto sources = top.find("sources")) sources_.emplace_back(*sources, path);
        if (auto mappings = top.find("mappings")) read_mappings(*mappings, ctx, config_.mappings);
        auto includes = top.find("include");
        top.finish();
        if (includes) read_includes(*includes, ctx);
    }

    void read_includes(const YAML::Node& node, const Context& ctx) {
        std::vector<std::string> entries;
        if (!node.IsSequence()) {
            ctx.error(position_of(node, ctx),
                      "include: expected a list of paths or globs, got " + describe_value(node));
            return;
        }
        const fs::path base = fs::path(ctx.file).parent_path();
        for (const auto& item : node) {
            auto entry = read_text(item, ctx, "include");
            if (!entry) continue;
            const Position where = position_of(item, ctx);
            if (entry->empty()) {
                ctx.error(where, "include: an entry is empty");
                continue;
            }
            const std::string joined = (base / *entry).lexically_normal().string();
            if (!has_glob_magic(*entry)) {
                include_file(joined, where, ctx);
                continue;
            }
            glob_t matches{};
            const int rc = ::glob(joined.c_str(), 0, nullptr, &matches);
            std::vector<std::string> paths;
            if (rc == 0) {
                for (std::size_t i = 0; i < matches.gl_pathc; ++i)
                    paths.emplace_back(matches.gl_pathv[i]);
            } else if (rc != GLOB_NOMATCH) {
                ctx.error(where, "include: cannot expand '" + shown(*entry, kShownPathChars) + "'");
            }
            ::globfree(&matches);
            for (const auto& path : paths) {
                std::error_code ec;
                if (!fs::is_regular_file(path, ec)) continue;  // directories under the glob
                include_file(path, where, ctx);
            }
        }
    }

    void include_file(const std::string& path, const Position& where, const Context& ctx) {
        const std::string canonical = canonical_of(path);
        for (std::size_t i = 0; i < stack_.size(); ++i) {
            if (stack_[i].canonical != canonical) continue;
            std::string chain;
            for (std::size_t j = i; j < stack_.size(); ++j) chain += stack_[j].path + " -> ";
            ctx.error(where, "include cycle: " + chain + path);
            return;
        }
        if (auto seen = included_at_.find(canonical); seen != included_at_.end()) {
            ctx.error(where, "include: '" + shown(path, kShownPathChars) + "' is already loaded" +
                                 (seen->second
                                      ? " (included at " + place_from(*seen->second, ctx.file) + ")"
                                      : std::string(" (it is the main config file)")));
            return;
        }
        if (stack_.size() >= kMaxIncludeDepth) {
            ctx.error(where, "include: nested more than 16 levels deep");
            return;
        }
        if (included_at_.size() >= kMaxFiles) {
            ctx.error(where, "include: more than 512 files");
            return;
        }
        auto text = read_file(path, where);
        if (!text) return;
        included_at_.emplace(canonical, where);
        stack_.push_back({canonical, path});
        parse_file(path, *text, FileKind::included);
        stack_.pop_back();
    }

    const LoadOptions& options_;
    Diagnostics diag_;
    Config config_;
    ModelRegistry models_;                                     // every model read, by precedence
    std::vector<std::pair<YAML::Node, std::string>> sources_;  // `sources:` and its file, read last
    std::vector<std::string> order_;  // files in load order (the order errors are sorted in)
    std::vector<Open> stack_;         // the chain of includes being read, for cycles
    std::map<std::string, std::optional<Position>> included_at_;
};

}  // namespace
}  // namespace config_detail

LoadResult load_models(const LoadOptions& options) {
    try {
        return config_detail::Loader(options).load(std::nullopt);
    } catch (const std::exception& e) {
        LoadResult result;
        result.errors.push_back({{"", 0, 0}, std::string("cannot load models: ") + e.what()});
        return result;
    }
}

LoadResult load_config(const std::string& path, const LoadOptions& options) {
    try {
        return config_detail::Loader(options).load(path);
    } catch (const std::exception& e) {
        LoadResult result;
        result.errors.push_back({{path, 0, 0}, std::string("cannot load: ") + e.what()});
        return result;
    } catch (...) {
        LoadResult result;
        result.errors.push_back({{path, 0, 0}, "cannot load: unexpected failure"});
        return result;
    }
}

}  // namespace nodebridge
