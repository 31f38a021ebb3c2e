#pragma once
// Test helpers: a temporary directory holding config files, and loading them with error
// lines made relative to that directory.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"

namespace nodebridge::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "nb-config-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

    // Writes `text` to `name` (relative, parent directories created); returns the full path.
    std::string write(const std::string& name, const std::string& text) const {
        const std::filesystem::path file = std::filesystem::path(path_) / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }

  private:
    std::string path_;
};

struct Loaded {
    std::optional<Config> config;
    std::vector<std::string> errors;  // "FILE:LINE:COL: message", FILE relative to the dir
};

// Loads `file` (relative to `dir`) and strips "dir/" from the error lines.
inline Loaded load_in(const TempDir& dir, const std::string& file = "config.yaml",
                      const LoadOptions& options = {}) {
    LoadResult result = load_config(dir.path() + "/" + file, options);
    Loaded out{std::move(result.config), {}};
    const std::string prefix = dir.path() + "/";
    for (const auto& error : result.errors) {
        std::string line = error.to_string();
        if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
        out.errors.push_back(line);
    }
    return out;
}

// Writes `yaml` as config.yaml in a fresh directory and loads it.
inline Loaded load_text(const std::string& yaml) {
    TempDir dir;
    dir.write("config.yaml", yaml);
    return load_in(dir);
}

// A minimal valid head: the gateway line, to which tests append sources or mappings.
inline const std::string kHead = "gateway: gw-test\n";

}  // namespace nodebridge::testing
