// Experiments: a prompt set, several methods, evaluation and a diversity–quality report in one job
// (docs/experiments.md). This is the papers' own experiment (BACO §5, router paper §5): each method is
// sampled n times per prompt at one or more settings (its "points": a γ sweep gives one point per γ),
// every answer set is evaluated with DivCov and the diversity metrics, and Coverage/Dominance compare
// the methods' curves in each diversity–quality space.
//
// Invariants the runner keeps, whoever drives it (the CLI, Python, Ray workers):
//   * Answers depend on the seed, the prompt and the sample index only. Prompts are generated in fixed
//     blocks of `batch_size` consecutive prompts (block b = prompts [b·batch, (b+1)·batch)), so that
//     even floating-point batch effects are the same in every run, shard and worker.
//   * Work is committed per prompt: a line is appended to `<point>/generations.jsonl` and flushed to
//     disk (fdatasync) before the next. A killed run, rerun, regenerates the first unfinished block
//     and appends only the prompts not yet written; a torn last line is cut off first.
//   * Shard i of N owns the blocks b with b mod N = i; merging shards interleaves their blocks back,
//     so merged files equal an unsharded run byte for byte.
//   * Everything but generation (evaluation, summaries, the report) is a pure function of the files
//     and is rebuilt whole, written atomically (temporary file + rename).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "breadth/model.hpp"
#include "breadth/progress.hpp"
#include "breadth/sampler.hpp"

namespace breadth {

class CausalLM;

// ================================================================================== the file

/// A checkpoint the methods refer to by name. The file gives a path string or {"path", "dtype",
/// "device", "weights"}; relative paths are taken from the experiment file's folder.
struct ExperimentModel {
  std::string name;
  std::string path;
  std::string dtype = "float32";
  std::string device = "cpu";
  std::string weights = weight_format_name(ModelOptions{}.weights);  ///< "native" or "float"
};

/// Method kinds the runner knows (the `kind` key). Comparison methods of the BACO paper arrive as
/// kinds beside these as the library gains them.
const std::vector<std::string>& experiment_method_kinds();

/// One method of the file: its kind and parameters. A numeric parameter given as a list is a sweep:
/// the method then has one point per value, named "NAME@VALUE" (the value as the file writes it).
struct ExperimentMethod {
  std::string name;
  std::string kind;                       ///< one of experiment_method_kinds()
  std::string model;                      ///< single-model kinds
  std::string base, aligned;              ///< two-model kinds (baco, logit_ensemble, ...)
  bool chat = true;                       ///< sample, route: apply the model's chat template
  /// temperature, top_p, top_k, min_p; defaults are the kind's (T = 1 and top-p 1 for sample and
  /// route, BACO Appendix D's top-p 0.9 for baco and the comparison methods).
  SamplingOptions sampling;
  /// The kind's numeric parameters with their defaults filled in: gamma (baco), w (logit_ensemble),
  /// ratio (response_ensemble), threshold (nudging), groups and penalty (diverse_beam).
  std::map<std::string, double> numbers;
  std::string rule;                       ///< baco: rule name without ":GAMMA" (default kDefaultRule)
  std::string base_template;              ///< two-model kinds: {prompt}/{system} format; empty: shifting
  std::string router;                     ///< route: a saved router's folder
  std::vector<std::string> pool;          ///< route: model names it may pick (default: all models)
  std::string encoder;                    ///< route: sentence encoder for agnostic features
  /// The swept parameter ("gamma", "temperature", ...) and its values with their text as written.
  std::string sweep_key;
  std::vector<double> sweep_values;
  std::vector<std::string> sweep_labels;
};

/// Which figures form one diversity–quality space, and what anchors its unit square.
struct ExperimentSpace {
  std::string name;                       ///< default "QUALITY vs DIVERSITY"
  std::string quality;                    ///< a figure name: qual, unq_qual, utility, div_cov, ...
  std::string diversity;                  ///< a figure name: distinct_2, self_bleu, unq, ...
  std::optional<bool> higher_is_better;   ///< of `diversity`; default from the metric
  std::optional<double> bound;            ///< theoretical best of `diversity`; default from the metric
};

struct ExperimentEvaluation {
  std::string equivalence = "noveltybench-shortcut";
  std::string quality = "const:1";
  std::vector<std::string> metrics;
  int64_t budget = 0;                     ///< B of div-cov; 0 = n
  double patience = 0.8;
  std::string device = "cpu";             ///< where model-backed judges run
  std::string tokenizer, embedder, nli;   ///< models of metrics that name none (breadth/spec.hpp)
  /// Coverage/Dominance anchors: the points of the base and the aligned model at T = 1. Without
  /// both, the report draws the spaces but computes no Coverage/Dominance.
  std::string base_point, aligned_point;
  std::vector<ExperimentSpace> spaces;    ///< default: qual against each metric
};

struct ExperimentSpec {
  std::string prompts;                    ///< JSONL {"id","prompt"} or text, one prompt per line
  int64_t limit = 0;                      ///< first `limit` prompts; 0 = all
  std::vector<ExperimentModel> models;
  int64_t n = 10;
  int64_t max_new_tokens = 256;
  uint64_t seed = 0;
  int64_t batch_size = 8;                 ///< prompts per generation block (each decodes n rows)
  std::vector<ExperimentMethod> methods;
  ExperimentEvaluation evaluate;

  /// The model named `name`; InvalidArgument naming `where` and the known models otherwise.
  const ExperimentModel& model(const std::string& name, const std::string& where) const;
};

/// Parses and validates an experiment: unknown keys, missing models, bad values and specs are
/// InvalidArgument naming the key ("methods[1].gamma"), and nothing is loaded. `base_dir` resolves
/// relative paths. Checkpoint paths must exist.
ExperimentSpec parse_experiment(const std::string& json_text, const std::string& base_dir,
                                const std::string& where = "experiment");
/// Reads and parses an experiment file (IoError when it cannot be read).
ExperimentSpec load_experiment(const std::string& path);

// ================================================================================== points

/// One operating point: a method at one value of its swept parameter.
struct ExperimentPoint {
  std::string name;                       ///< "NAME" or "NAME@VALUE"; its folder under the output
  size_t method = 0;                      ///< index into ExperimentSpec::methods
  std::optional<double> value;            ///< the swept parameter's value
};
std::vector<ExperimentPoint> experiment_points(const ExperimentSpec& spec);

/// (id, text) of the prompt set, with lines that could not be read skipped and reported.
struct PromptSet {
  std::vector<std::string> ids, prompts;
  std::vector<std::string> skipped;       ///< "file:LINE: why", one per skipped line
};
/// JSONL when the first non-blank character is '{' ("id" or "query_id", "prompt"/"query"/"text"),
/// else one prompt per line (ids "line-N"). `limit` > 0 keeps the first `limit` prompts. IoError when
/// the file cannot be read, InvalidArgument when no prompt is left.
PromptSet load_prompt_set(const std::string& path, int64_t limit = 0);

/// `--shard I/N`: shard `index` of `count` (0 <= index < count).
struct Shard {
  int64_t index = 0, count = 1;
  /// "I/N"; InvalidArgument naming `what` otherwise.
  static Shard parse(const std::string& text, const std::string& what = "--shard");
  bool owns_block(int64_t block) const { return block % count == index; }
};

// ================================================================================== running

/// What one point produced for one prompt: one line of each of its files.
struct PromptOutput {
  std::string generations_line;           ///< NoveltyBench's {"id","prompt","model","generations"}
  std::string provenance_line;            ///< BACO points: per token source, reason, statistics
  int64_t tokens = 0;                     ///< tokens generated for this prompt (all samples)
};

/// Loads each checkpoint once and shares it between the points that use it.
class ModelCache {
 public:
  explicit ModelCache(const ExperimentSpec& spec) : spec_(&spec) {}
  std::shared_ptr<const CausalLM> get(const std::string& name, const std::string& where);
  /// Drops the models not named in `names` (the runner frees a model after its last point).
  void keep_only(const std::set<std::string>& names);

 private:
  const ExperimentSpec* spec_;
  std::map<std::string, std::shared_ptr<const CausalLM>> models_;
};

struct RunOptions {
  Shard shard;
  /// Evaluate and write summary.json and report.html when generation is done (false: generate only;
  /// `breadth report` does the rest later).
  bool evaluate = true;
  /// (prompts done, prompts to do, "POINT · N tok/s") over all points of this run; false cancels
  /// (the prompts committed so far stay).
  ProgressCallback on_progress;
  /// One line per event worth a log (resuming, a failed point, skipped prompt lines).
  std::function<void(const std::string&)> on_message;
};

/// The figures of one point (means over prompts), in column order.
struct PointSummary {
  std::string name, method, kind;
  std::vector<std::pair<std::string, double>> figures;
  std::string error;                      ///< non-empty when the point failed
  std::optional<double> figure(const std::string& key) const;
};
struct ExperimentSummary {
  std::vector<PointSummary> points;
  std::string json;                       ///< DIR/summary.json as written
  /// Points that failed; the others finished.
  int64_t failed() const;
};

class Experiment {
 public:
  explicit Experiment(ExperimentSpec spec);
  static Experiment load(const std::string& path) { return Experiment(load_experiment(path)); }

  const ExperimentSpec& spec() const { return spec_; }
  const std::vector<ExperimentPoint>& points() const { return points_; }
  const PromptSet& prompts() const { return prompts_; }
  int64_t num_blocks() const;
  /// Prompt indices [first, last) of block `b`.
  std::pair<int64_t, int64_t> block_range(int64_t b) const;

  /// Generates (resuming), then evaluates and reports into `out`. A point whose model cannot be
  /// loaded or whose generation fails is recorded as failed; the others finish.
  ExperimentSummary run(const std::string& out, const RunOptions& options = {}) const;

  // The pieces of run(), for other drivers (breadth.distributed runs generate_block on Ray actors).
  /// Creates `out` and writes (or checks against) `out`/experiment.json for `shard`.
  void prepare(const std::string& out, const Shard& shard = {}) const;
  /// Blocks of `shard` that point `p` has not finished in `out` (after repairing torn lines).
  std::vector<int64_t> pending_blocks(const std::string& out, size_t p, const Shard& shard = {}) const;
  /// Generates block `block` of point `p`: one output per prompt of the block.
  std::vector<PromptOutput> generate_block(size_t p, int64_t block, ModelCache& models) const;
  /// Appends the outputs of block `block` that `out` lacks (in prompt order, flushed per prompt).
  void commit_block(const std::string& out, size_t p, int64_t block,
                    const std::vector<PromptOutput>& outputs) const;
  /// Evaluates every point in `out` and writes scores, summaries and report.html.
  ExperimentSummary evaluate(const std::string& out) const;

 private:
  ExperimentSpec spec_;
  std::vector<ExperimentPoint> points_;
  PromptSet prompts_;
};

/// The points' figures as an aligned text table (one row per point; failed points say why).
std::string summary_table(const ExperimentSummary& summary);

/// `breadth report`: evaluates the points of one run folder and rebuilds its summary and report; with
/// several folders (shards of one experiment), merges them into `out` first. InvalidArgument when
/// the folders hold different experiments or not all shards.
ExperimentSummary rebuild_report(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace breadth
