// Where a test finds its inputs (set by ctest; see tests/CMakeLists.txt).
#pragma once

#include <cstdlib>
#include <string>

#include "core/files.hpp"

namespace breadth::test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}
/// Generated fixtures (tiny checkpoints, reference outputs) for this build.
inline std::string fixtures_dir() { return env_or("BREADTH_FIXTURES_DIR", "build/fixtures"); }
/// The read-only ../shared folder (NoveltyBench data, real tokenizer files).
inline std::string shared_dir() { return env_or("BREADTH_SHARED_DIR", "../shared"); }
/// Unpacked real weights from scripts/setup.sh (smollm2-135m-instruct.gguf, all-minilm-l6-v2/).
inline std::string models_dir() { return env_or("BREADTH_MODELS_DIR", ""); }
inline std::string python() { return env_or("BREADTH_PYTHON", "python3"); }
inline std::string source_dir() { return env_or("BREADTH_SOURCE_DIR", "."); }
inline std::string binary_dir() { return env_or("BREADTH_BINARY_DIR", "build"); }

/// rm -rf `path`; true when nothing is left there (also when it was missing). Tests use this (and the
/// other breadth::files helpers of core/files.hpp), never std::filesystem: libtorch.so exports its
/// own copies of the std::filesystem functions, and when the dynamic linker binds a test's
/// remove_all to libtorch's, it crashes through a null pointer on a non-empty directory.
inline bool remove_tree(const std::string& path) { return breadth::files::remove_tree(path); }

}  // namespace breadth::test
