// The breadth CLI's subcommands. Each cmd_<name>.cpp defines add_<name>, which adds its CLI11
// subcommand and options and returns the function that runs it; main() lists them all explicitly
// (no registration by static initializers: the list below is the whole CLI).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace breadth::cli {

/// Runs the parsed subcommand; returns the exit code.
using Runner = std::function<int()>;

Runner add_generate(CLI::App& app);
Runner add_sample(CLI::App& app);
Runner add_baco(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_pareto(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_report(CLI::App& app);
Runner add_route(CLI::App& app);
Runner add_tokenize(CLI::App& app);
Runner add_chat_template(CLI::App& app);
Runner add_logits(CLI::App& app);
Runner add_version(CLI::App& app);

}  // namespace breadth::cli
