// `breadth version`: the library version actually loaded.
#include <fmt/format.h>

#include "breadth/version.hpp"
#include "command.hpp"

namespace {
std::function<int()> setup(CLI::App& app) {
  app.add_subcommand("version", "Print the library version");
  return [] {
    fmt::print("{}\n", breadth::version());
    return 0;
  };
}
}  // namespace
breadth::cli::Runner breadth::cli::add_version(CLI::App& app) { return setup(app); }
