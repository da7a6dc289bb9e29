// File interface of evaluation: answer sets as JSONL, diversity–quality points as JSON.
//
// One JSONL line per query: {"prompt": str, "generations": [str], ...} with optional "id",
// "partition" (class ids, used instead of an equivalence), "scores" (quality per generation on the
// scorer's scale), "rewards" (raw reward per generation, mapped to 1..10), "partition_scores"
// (NoveltyBench: the score of each class), "gold" (gold answer set), "token_ids" (aligned-tokenizer
// ids per generation, for EAD) and "log_likelihoods" (per generation, for semantic entropy). Other
// fields are ignored, so NoveltyBench's scores.jsonl lines are valid input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "breadth/divcov.hpp"
#include "breadth/pareto.hpp"

namespace breadth {

struct EvalRecord {
  std::optional<std::string> id;
  std::string prompt;
  std::vector<std::string> generations;
  std::optional<std::vector<int>> partition;
  std::optional<std::vector<double>> scores;
  std::optional<std::vector<double>> rewards;
  std::optional<std::vector<double>> partition_scores;
  std::optional<std::vector<std::string>> gold;
  std::optional<std::vector<std::vector<int32_t>>> token_ids;
  std::optional<std::vector<double>> log_likelihoods;
};

/// Parses one line; `where` names it in errors ("file.jsonl:12"). Throws FormatError.
EvalRecord parse_eval_record(std::string_view line, const std::string& where);
/// Every non-blank line of a JSONL file. Throws IoError / FormatError (with the line number).
std::vector<EvalRecord> read_eval_jsonl(const std::string& path);

struct RecordEvalOptions {
  DivCovOptions divcov;
  /// q_max of "scores" given in the file (NoveltyBench's 1..10 scale by default).
  double score_max = 10.0;
};

/// div-cov of one record. The partition is the record's own if given, else `equivalence`'s. Quality
/// comes from, in order: "scores"; "rewards" (mapped with NoveltyBench's thresholds, q_max 10);
/// "partition_scores" (every member gets its class's score, q_max 10); "gold"; else `fallback`.
DivCovResult evaluate_record(const EvalRecord& record, const Equivalence& equivalence,
                             const QualityScorer& fallback, const RecordEvalOptions& options = {});

/// Spaces for `breadth pareto`:
/// {"spaces": [{"name": str, "higher_is_better": bool,
///              "anchors": {"x_min", "x_max", "y_min", "y_max"}
///                 or "base": [x, y], "aligned": [x, y], "bound": number,
///              "methods": {"name": [[x, y], ...], ...}}]}
/// (a single space object without "spaces" is accepted too). Throws IoError / FormatError.
std::vector<QDSpace> read_spaces_json(const std::string& path);
std::vector<QDSpace> parse_spaces_json(std::string_view text, const std::string& where);

}  // namespace breadth
