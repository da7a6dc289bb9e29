// Diversity coverage (the router paper's div-cov, SPEC §4) and NoveltyBench's own figures.
//
// An answer set is partitioned greedily into equivalence classes (each answer joins the first class
// whose representative, its first member, it is equivalent to); each answer gets a quality; div-cov
// is the summed quality of the unique answers over the best sum the budget allows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "breadth/text_models.hpp"

namespace breadth {

// ------------------------------------------------------------------------------------ equivalence

/// Decides pairs within one answer set. Created by Equivalence::prepare, which does the per-answer
/// work (tokenizing, embedding) once, so that deciding a pair costs no model call of its own.
class PairJudge {
 public:
  virtual ~PairJudge() = default;
  /// For each (representative, candidate) pair of answer indices: are they equivalent? Called
  /// once per candidate with all current representatives, so batched judges see whole batches.
  /// A judge may refer to the answers it was prepared for; it must not outlive them.
  virtual std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) = 0;
};

class Equivalence {
 public:
  virtual ~Equivalence() = default;
  virtual std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const = 0;
  virtual std::string name() const = 0;
};

/// Class id (0, 1, ... in order of first appearance) of each answer under greedy partitioning
/// against class representatives (NoveltyBench src/partition.py; router paper Algorithm 1).
std::vector<int> partition(const std::vector<std::string>& answers, const Equivalence& equivalence);

/// How exact matching (and gold sets) normalize answers: lowercased as Python's str.lower(),
/// whitespace runs collapsed to one space, and whitespace, quotes and sentence punctuation
/// (. , ; : ! ? " ' `) stripped from both ends.
std::string normalize_answer(std::string_view answer);

/// Equal after normalize_answer (fixed-answer questions).
std::shared_ptr<Equivalence> exact_match_equivalence();
/// ROUGE-1 F (rouge-score's tokenizer, no stemming) above `threshold` (default NoveltyBench's 0.458).
std::shared_ptr<Equivalence> rouge1_equivalence(double threshold = 0.458);
/// NoveltyBench's short-answer shortcut: lowercase, strip, split on whitespace; when the longer
/// answer has at most `max_words` words, equal iff 2 * |shared word set| >= longer length; otherwise
/// the pair goes to `fallback` (all undecided pairs of a call in one batch).
std::shared_ptr<Equivalence> unigram_shortcut_equivalence(std::shared_ptr<Equivalence> fallback,
                                                          int max_words = 5);
/// Cosine similarity of embeddings above `threshold`; each answer is embedded once per set.
std::shared_ptr<Equivalence> embedding_equivalence(std::shared_ptr<const TextEmbedder> embedder,
                                                   double threshold);
/// Same, with the embedder given as a function.
std::shared_ptr<Equivalence> embedding_equivalence(
    std::function<torch::Tensor(const std::vector<std::string>&)> embed, double threshold);
/// A pair classifier's P(equivalent | representative, candidate) above `threshold` (NoveltyBench's
/// DeBERTa: 0.102). One classifier call per candidate, holding all its representative pairs.
std::shared_ptr<Equivalence> classifier_equivalence(std::shared_ptr<const PairClassifier> classifier,
                                                    double threshold = 0.102);

// Equivalences named by a spec string ("rouge1:0.5", "embedding:PATH:0.8"): breadth/spec.hpp.

// ---------------------------------------------------------------------------------------- quality

/// Scores answers of one query. `max_score()` is q_max, the best one answer can get: div-cov's
/// denominator is budget * q_max unless the scorer says otherwise (gold sets).
class QualityScorer {
 public:
  virtual ~QualityScorer() = default;
  virtual std::vector<double> score(const std::string& prompt,
                                    const std::vector<std::string>& answers) const = 0;
  virtual double max_score() const = 0;
  /// max-uniq-sum(q, B) of SPEC §4. Default budget * max_score().
  virtual double max_unique_sum(int64_t budget) const { return static_cast<double>(budget) * max_score(); }
};

/// NoveltyBench's reward thresholds: score = bisect_left(thresholds, reward) + 1, in 1..10.
const std::vector<double>& noveltybench_reward_thresholds();
int reward_to_score(double reward, const std::vector<double>& thresholds = noveltybench_reward_thresholds());

/// 1 when the normalized answer is in the normalized gold set, else 0; max-uniq-sum = min(B, |A*|).
std::shared_ptr<QualityScorer> gold_quality(std::vector<std::string> gold);
/// A batched raw reward per answer mapped to 1..10 with `thresholds`.
std::shared_ptr<QualityScorer> reward_quality(
    std::function<std::vector<double>(const std::string& prompt, const std::vector<std::string>&)> rewards,
    std::vector<double> thresholds = noveltybench_reward_thresholds());
std::shared_ptr<QualityScorer> reward_quality(std::shared_ptr<const RewardModel> model);
/// Every answer scores `value` (= q_max); div-cov is then #unique / B.
std::shared_ptr<QualityScorer> constant_quality(double value = 1.0);
/// A user function (batched), with its best possible score `max_score`.
std::shared_ptr<QualityScorer> function_quality(
    std::function<std::vector<double>(const std::string& prompt, const std::vector<std::string>&)> fn,
    double max_score);

// ----------------------------------------------------------------------------------------- div-cov

struct DivCovOptions {
  /// B. 0: the number of answers in the set. A set larger than B is an error.
  int64_t budget = 0;
  /// NoveltyBench's patience p for utility.
  double patience = 0.8;
};

/// Everything computed for one query's answer set.
struct DivCovResult {
  std::vector<int> partition;           ///< class id per answer
  std::vector<double> quality;          ///< quality per answer
  /// #Unq: the number of classes (NoveltyBench calls it `distinct`; one field serves both).
  int64_t num_unique = 0;
  double qual = 0;                      ///< Qual: mean quality over all answers
  double unq_qual = 0;                  ///< UnqQual: mean quality over class representatives
  double div_cov = 0;                   ///< Cov: Σ quality of representatives / max-uniq-sum(B)
  std::vector<double> generation_scores;///< NoveltyBench: class score at a class's first member, else 0
  double utility = 0;                   ///< NoveltyBench: Σ p^i g_i / Σ p^i
  int64_t distinct_legacy = 0;          ///< NoveltyBench's older max(partition) = num_unique - 1

  /// NoveltyBench's name for num_unique (it was a second field holding the same number).
  [[deprecated("use DivCovResult::num_unique")]] int64_t distinct() const { return num_unique; }
};

/// Relabels class labels to first-appearance order: the first answer's label becomes 0, the next new
/// label 1, and so on ([3, 3, 7, 1] -> [0, 0, 1, 2]). Any int is a label; equal labels, one class.
std::vector<int> canonical_partition(const std::vector<int>& labels);

/// The figures from a partition and per-answer qualities already known. `labels` may use any class
/// labels (clustering tools, other judges); they are canonicalized (`canonical_partition`) and the
/// result's `partition` is in first-appearance form. `max_unique_sum` is the div-cov denominator
/// (QualityScorer::max_unique_sum(B)). Throws InvalidArgument on a size mismatch.
DivCovResult divcov_from(std::vector<int> labels, std::vector<double> quality,
                         double max_unique_sum, double patience = 0.8);

/// Partitions `answers` with `equivalence`, scores them with `quality`, and computes the figures.
DivCovResult evaluate_divcov(const std::string& prompt, const std::vector<std::string>& answers,
                             const Equivalence& equivalence, const QualityScorer& quality,
                             const DivCovOptions& options = {});

/// NoveltyBench's utility of generation scores g: Σ p^i g_i / Σ p^i (0 for an empty list).
double noveltybench_utility(const std::vector<double>& generation_scores, double patience = 0.8);

}  // namespace breadth
