// `breadth run EXPERIMENT.json --out DIR`: a prompt set through every method of an experiment file,
// evaluated, summarized and reported (docs/experiments.md). Resumable: rerun the same command after
// an interruption. `breadth report DIR...`: rebuild (or merge shards into) a run folder's summary.
#include <fmt/format.h>

#include <iostream>

#include "breadth/experiment.hpp"
#include "breadth/progress.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

using namespace breadth;

struct RunArgs {
  std::string experiment, out, shard = "0/1";
  bool no_eval = false, quiet = false;
};

int print_summary(const ExperimentSummary& summary, const std::string& out) {
  std::cout << summary_table(summary);
  std::cout << fmt::format("summary: {}/summary.json\nreport:  {}/report.html\n", out, out);
  if (summary.failed()) {
    std::cerr << fmt::format("{} point(s) failed; fix the cause and rerun to finish them\n", summary.failed());
    return 1;
  }
  return 0;
}

int run_experiment(const RunArgs& a) {
  Experiment experiment = Experiment::load(a.experiment);
  RunOptions options;
  options.shard = Shard::parse(a.shard, "--shard");
  options.evaluate = !a.no_eval;
  TerminalProgress bar("generating");
  if (!a.quiet)
    options.on_progress = [&bar](int64_t done, int64_t total, const std::string& label) {
      bar.update(done, total, label);
      return true;
    };
  options.on_message = [](const std::string& m) { std::cerr << m << "\n"; };
  ExperimentSummary summary = experiment.run(a.out, options);
  if (a.no_eval) {
    std::cout << fmt::format("generated into {}; `breadth report {}` evaluates it\n", a.out, a.out);
    return summary.failed() ? 1 : 0;
  }
  return print_summary(summary, a.out);
}

struct ReportArgs {
  std::vector<std::string> dirs;
  std::string out;
};

}  // namespace

breadth::cli::Runner breadth::cli::add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand("run", "run an experiment file: generate, evaluate, summarize, report (resumable)");
  sub->add_option("experiment", a->experiment, "experiment file (JSON; docs/experiments.md)")->required();
  sub->add_option("--out", a->out, "run folder (created; rerun the same command to resume)")->required();
  sub->add_option("--shard", a->shard, "I/N: run shard I of N (merge the folders with `breadth report`)")
      ->capture_default_str();
  sub->add_flag("--no-eval", a->no_eval, "generate only (evaluate later with `breadth report`)");
  sub->add_flag("--quiet", a->quiet, "no progress bar");
  return [a] { return run_experiment(*a); };
}

breadth::cli::Runner breadth::cli::add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report", "rebuild a run folder's summary and report, or merge shards into --out");
  sub->add_option("dirs", a->dirs, "run folder(s); several: the shards of one experiment")->required();
  sub->add_option("--out", a->out, "where merged shards go (default: the one folder given)");
  return [a] {
    const std::string out = a->out.empty() ? a->dirs.front() : a->out;
    cli::require(a->dirs.size() == 1 || !a->out.empty(), "breadth report: merging {} folders needs --out",
                 a->dirs.size());
    return print_summary(rebuild_report(a->dirs, out), out);
  };
}
