// Pieces shared by the experiment component's files (not installed).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "breadth/experiment.hpp"

namespace breadth {

/// The key under which experiment.json keeps what the run resolved (version, checkpoints' sizes and
/// hashes, the prompt count, the shard); parse_experiment accepts and ignores it.
inline constexpr const char* kResolvedKey = "resolved";

/// The experiment with every default filled in, in the file's own format.
nlohmann::ordered_json resolved_experiment_json(const ExperimentSpec& spec);

/// Figure names a point has (columns of summaries, axes of spaces): DivCov's, the metrics' names
/// without model paths, and BACO's base share and the mean length.
std::vector<std::string> experiment_figure_names(const ExperimentSpec& spec);

/// parse_experiment, with the existence checks of checkpoints, prompts and routers optional (a
/// report rebuilt on another machine reads experiment.json without them).
ExperimentSpec parse_experiment_json(const std::string& json_text, const std::string& base_dir,
                                     const std::string& where, bool check_files);

/// DIR/experiment.json's text for `e` run as `shard`.
std::string resolved_experiment_text(const Experiment& e, const Shard& shard);

/// What evaluation needs besides the files: the experiment, its points and which prompts the folder
/// holds.
struct RunLayout {
  ExperimentSpec spec;
  std::vector<ExperimentPoint> points;
  int64_t num_prompts = 0;
  Shard shard;
  /// Prompts of the shard (all of them for an unsharded run).
  int64_t shard_prompts() const;
};
/// The layout of a run folder from its experiment.json. IoError/FormatError when it has none.
RunLayout read_run_layout(const std::string& dir);
/// Evaluates every point of the folder, writes scores, summaries and report.html.
ExperimentSummary evaluate_run(const RunLayout& layout, const std::string& out);

/// One point's figures and what the report draws of it.
struct PointReport {
  PointSummary summary;
  std::optional<double> value;            ///< the swept value
  int64_t prompts = 0;                    ///< prompts evaluated
  /// BACO points: share of base tokens and of switches by position (over samples that long).
  std::vector<double> base_share_by_position, switch_rate_by_position;
  /// The first prompts' answers; for BACO points, each answer as (text, from base) spans.
  std::vector<std::vector<std::vector<std::pair<std::string, bool>>>> answers;
};
struct SpaceReport {
  ExperimentSpace space;
  bool higher_is_better = true;
  std::optional<double> bound;
  /// Per method (in file order): its points' (quality, diversity).
  std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> curves;
  std::vector<std::vector<std::string>> labels;  ///< per curve point: the swept value ("" for none)
  std::string base_point, aligned_point;
  std::optional<std::pair<double, double>> base, aligned;
  /// Coverage/Dominance per method when the anchors allow; else why not.
  std::vector<std::tuple<std::string, double, double, double, double>> controllability;  // name, cov, dom, dom_q, dom_d
  std::string not_computed;
};
struct ReportData {
  std::string title;
  std::vector<std::string> columns;       ///< figure names in table order
  std::vector<PointReport> points;
  std::vector<SpaceReport> spaces;
  std::vector<std::string> sample_prompts;  ///< prompts whose answers are shown side by side
  std::string experiment_json;
};
/// One self-contained HTML page (inline SVG and CSS, no scripts, no network).
std::string experiment_report_html(const ReportData& data);

namespace jsonl {
/// Cuts a torn last line (bytes after the last '\n') off `path`; returns the complete lines. A
/// missing file has none.
std::vector<std::string> repair_and_read(const std::string& path);
/// Cuts `path` to its first `lines` lines (a file with fewer is left as it is).
void truncate_lines(const std::string& path, size_t lines);
}  // namespace jsonl

}  // namespace breadth
