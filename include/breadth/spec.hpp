// Evaluation specs: the one grammar by which the CLI, the C API, Python and experiment files name
// equivalences, quality scorers and diversity metrics (docs/specs.md).
//
// Evaluation itself (breadth/divcov.hpp, breadth/metrics.hpp) never loads a model: it sees judges only
// through the interfaces of breadth/text_models.hpp. This layer sits above evaluation and the encoders
// and is the one place that turns a string such as "embedding:/models/minilm:0.8" into a loaded
// judge, on the device the caller names (never a device chosen behind the caller's back).
//
// Grammar (whitespace is not trimmed; numbers are decimal):
//   equivalence  exact | rouge1[:T] | noveltybench-shortcut[:EQUIVALENCE] | embedding:PATH:T
//                | classifier:PATH[:T]
//   quality      const:VALUE (VALUE > 0) | reward:PATH
//   metric       distinct_N | ead_N[:TOKENIZER] | self_bleu | self_bleu_nosmooth | self_rouge_l
//                | vendi_ngram | vendi_ngram_cosine | semantic_entropy
//                | embedding_dissimilarity[:EMBEDDER] | vendi_embedding[:EMBEDDER]
//                | nli_diversity[:NLI]
// A metric that needs a model and names none in its spec takes the path from SpecOptions.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "breadth/divcov.hpp"
#include "breadth/eval_io.hpp"

namespace breadth {

/// Where model-backed judges run, and the models metrics use when their spec names none.
struct SpecOptions {
  torch::Device device = torch::kCPU;
  std::string tokenizer;  ///< ead_N: the vocabulary (the aligned model's checkpoint or tokenizer file)
  std::string embedder;   ///< embedding_dissimilarity, vendi_embedding: a sentence encoder
  std::string nli;        ///< nli_diversity: an NLI cross-encoder
};

/// An equivalence from its spec. Throws InvalidArgument naming the spec and the accepted forms;
/// IoError/FormatError from loading a model-backed judge.
std::shared_ptr<Equivalence> make_equivalence(const std::string& spec, const SpecOptions& options = {});

/// A quality scorer from its spec. Same errors as make_equivalence.
std::shared_ptr<QualityScorer> make_quality(const std::string& spec, const SpecOptions& options = {});

/// A diversity metric of one answer set, computed from the record and the figures DivCov found for
/// it (semantic entropy reads the partition; EAD reads the record's token ids when it has them).
class SetMetric {
 public:
  virtual ~SetMetric() = default;
  /// The spec it was made from, without a model path (the column name in tables).
  virtual std::string name() const = 0;
  /// Throws InvalidArgument naming `where` when the record lacks what the metric needs.
  virtual double compute(const EvalRecord& record, const DivCovResult& divcov,
                         const std::string& where) const = 0;
};

/// One metric from its spec; InvalidArgument for an unknown name (listing metric_names()) or a
/// model-backed metric with no model given.
std::shared_ptr<SetMetric> make_metric(const std::string& spec, const SpecOptions& options = {});
/// Several metrics; each model they read is loaded once and shared.
std::vector<std::shared_ptr<SetMetric>> make_metrics(const std::vector<std::string>& specs,
                                                     const SpecOptions& options = {});
/// The metric names make_metric knows ("distinct_N" and "ead_N" for the families).
const std::vector<std::string>& metric_names();

/// Every record of a file of answer sets evaluated the way `breadth eval` and experiments do.
struct AnswerSetTable {
  /// div_cov, unq, qual, unq_qual, utility, distinct (= unq, NoveltyBench's name), distinct_legacy,
  /// then each metric's name().
  std::vector<std::string> columns;
  std::vector<DivCovResult> divcov;        ///< per record
  std::vector<std::vector<double>> rows;   ///< per record, one value per column
  std::vector<double> mean;                ///< per column (0 when there are no records)
  /// Index of `column` in `columns`, or -1.
  int column(const std::string& column) const;
};
/// evaluate_record for each record, then each metric. A metric's error names the record by its id,
/// else "line N".
AnswerSetTable evaluate_answer_sets(const std::vector<EvalRecord>& records, const Equivalence& equivalence,
                                    const QualityScorer& quality,
                                    const std::vector<std::shared_ptr<SetMetric>>& metrics,
                                    const RecordEvalOptions& options = {});

}  // namespace breadth
