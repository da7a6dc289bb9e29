// Fuzz target: parse_experiment (breadth/experiment.hpp) on arbitrary text, and on what parses, its
// points and its resolved form. An experiment file is outside input (written by hand, shared between
// people); only breadth's errors may escape, naming the bad key -- a crash, a sanitizer report or any
// other exception (e.g. nlohmann's type_error from a value of the wrong JSON type) is a bug.
//
// Relative paths resolve against a scratch folder holding what the seeds name: a checkpoint folder
// `ckpt` (parse only checks that it exists) and a prompt file `prompts.jsonl`.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "breadth/error.hpp"
#include "breadth/experiment.hpp"
#include "core/files.hpp"

namespace {

const std::string& base_dir() {
  static const std::string dir = [] {
    const char* b = std::getenv("BREADTH_BINARY_DIR");
    const std::string d = breadth::files::join(b && *b ? b : ".", "fuzz-experiment-base");
    breadth::files::make_dirs(breadth::files::join(d, "ckpt"));
    breadth::files::write_file(breadth::files::join(d, "prompts.jsonl"),
                               "{\"id\": \"a\", \"prompt\": \"Name a fruit.\"}\n");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  breadth::ExperimentSpec spec;
  try {
    spec = breadth::parse_experiment(text, base_dir(), "fuzz-input.json");
  } catch (const breadth::Error&) {
    return 0;  // a clean rejection
  }
  // What parsed is valid: every point names a method, every model a method names is declared.
  try {
    for (const auto& p : breadth::experiment_points(spec))
      if (p.name.empty() || p.method >= spec.methods.size()) __builtin_trap();
    for (const auto& m : spec.methods)
      for (const std::string* name : {&m.model, &m.base, &m.aligned})
        if (!name->empty()) (void)spec.model(*name, "fuzz");
  } catch (const breadth::Error&) {
    __builtin_trap();
  }
  return 0;
}
