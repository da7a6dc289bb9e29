// Subcommand registry for the breadth CLI: each cmd_<name>.cpp defines a static Command that adds
// its CLI11 subcommand and a run function; main() dispatches to the one the user chose.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace breadth::cli {

struct Command {
  /// Adds the subcommand and its options to `app`; returns a function that runs it (exit code).
  std::function<std::function<int()>(CLI::App& app)> setup;
};

inline std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

struct Registrar {
  explicit Registrar(Command c) { registry().push_back(std::move(c)); }
};

}  // namespace breadth::cli

#define BREADTH_CLI_COMMAND(ident, setup_fn) \
  static ::breadth::cli::Registrar breadth_cli_registrar_##ident{::breadth::cli::Command{setup_fn}};
