// A test's input that setup provides (real weights, real tokenizer files) must be there: a missing one
// fails the test with how to get it. The one opt-out is BREADTH_ALLOW_MISSING_MODELS=1 (for a machine
// that cannot download them; CI never sets it), under which the test is reported as skipped with a
// WARN and returns early. Include after <catch2/catch.hpp> (or the test prelude).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace breadth::test {

/// True when BREADTH_ALLOW_MISSING_MODELS=1: a missing model or setup file is a skip, not a failure.
inline bool allow_missing_models() {
  const char* v = std::getenv("BREADTH_ALLOW_MISSING_MODELS");
  return v && std::string(v) == "1";
}

inline std::string missing_input_message(const std::string& path) {
  return path + " is missing: run `make setup` (scripts/setup.sh), which downloads it into the setup cache "
                "(BREADTH_MODELS_DIR); set BREADTH_ALLOW_MISSING_MODELS=1 only to skip tests that need it";
}

}  // namespace breadth::test

/// `if (!BREADTH_REQUIRE_INPUT(path)) return;` -- true when `path` can be opened; otherwise a failure
/// (the test stops here) or, under BREADTH_ALLOW_MISSING_MODELS=1, a WARN and false.
#define BREADTH_REQUIRE_INPUT(path)                                                           \
  ([&](const std::string& breadth_input_path_) {                                              \
    if (std::ifstream(breadth_input_path_).good()) return true;                               \
    if (breadth::test::allow_missing_models()) {                                              \
      WARN("skipped (BREADTH_ALLOW_MISSING_MODELS=1): "                                       \
           << breadth::test::missing_input_message(breadth_input_path_));                     \
      return false;                                                                           \
    }                                                                                         \
    FAIL(breadth::test::missing_input_message(breadth_input_path_));                         \
    return false;                                                                             \
  }(path))
