// From candidate models to a router's data (router paper §4.1–4.2, SPEC §6).
//
// The router (breadth/router.hpp) trains on two kinds of data: a routing table (each candidate
// model's answer set for each query, scored with DivCov) and query features. This header is what
// produces them from models:
//   * query features: model-specific ones from each candidate CausalLM (its last-token hidden state
//     under its chat template), model-agnostic ones from a sentence encoder;
//   * the table: each (query, model) cell's answer set sampled with the Sampler's collect-until-B
//     loop and scored with DivCov, written resumably;
//   * candidate pools (checkpoints named by their base names), prompts files and the feature sources
//     of the CLI's FEATURES options, so that a tool need not repeat that logic.
// It is the component `routing_pipeline`, above routing, sampling, evaluation and the encoders; the
// router itself never needs a model.
//
// One model is loaded at a time everywhere here: a pool of large checkpoints need not fit in memory
// at once.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "breadth/answer_set.hpp"
#include "breadth/encoder.hpp"
#include "breadth/model.hpp"
#include "breadth/progress.hpp"
#include "breadth/progress.hpp"
#include "breadth/router.hpp"

namespace breadth {

class Equivalence;
class QualityScorer;

// ============================================================================ features from models

/// Model-specific features (router paper §4.1, "spec"): a candidate model's final-norm last-layer
/// hidden state at the last token of each query, the query rendered as one user turn under the
/// model's chat template with the generation prompt (`encode_prompt(model, query, true)`, so a model
/// without a template sees the raw query). [N, hidden_size] float32; queries run in left-padded
/// batches of `batch_size`. name() is "last-hidden:chat:<name>": give a name that identifies the
/// checkpoint (e.g. its absolute path) when features are cached.
class ModelFeatureExtractor final : public FeatureExtractor {
 public:
  /// Throws InvalidArgument for a null model, a sequence classifier or a checkpoint without tokenizer.
  ModelFeatureExtractor(std::shared_ptr<const CausalLM> model, std::string name, int64_t batch_size = 8,
                        bool apply_chat_template = true);
  std::string name() const override;
  torch::Tensor extract(const std::vector<std::string>& queries) override;

 private:
  std::shared_ptr<const CausalLM> model_;
  std::string name_;
  int64_t batch_;
  bool chat_;
};

/// Model-agnostic features ("agn"): one text encoder's embeddings of the query text, float32 on the
/// CPU. name() is "embed:<name>" whichever constructor made it, so features cached from an embedder
/// and from the encoder behind it share their cache rows.
class EmbedderFeatureExtractor final : public FeatureExtractor {
 public:
  /// Any TextEmbedder (InvalidArgument when null).
  EmbedderFeatureExtractor(std::shared_ptr<const TextEmbedder> embedder, std::string name);
  /// A sentence encoder's embeddings (`Encoder::embed`: sentence-transformers pooling and
  /// normalization), e.g. of `Encoder::load(path)`. InvalidArgument when null.
  EmbedderFeatureExtractor(std::shared_ptr<const Encoder> encoder, std::string name);
  std::string name() const override;
  torch::Tensor extract(const std::vector<std::string>& queries) override;

 private:
  std::shared_ptr<const TextEmbedder> embedder_;
  std::string name_;
};

// ============================================================================ candidate pools

/// A pool model's name: its checkpoint's base name (a folder's name, a GGUF file's name without
/// .gguf), trailing slashes ignored. Tables, features files and routers know models by this name.
std::string pool_model_name(const std::string& checkpoint);

/// Candidate checkpoints, in pool order.
struct ModelPool {
  std::vector<std::string> names;  ///< pool_model_name of each checkpoint
  std::vector<std::string> paths;  ///< the checkpoints, as given

  /// The checkpoint of pool model `name`; InvalidArgument naming the pool when it has none.
  const std::string& path(const std::string& name) const;
  bool contains(const std::string& name) const;
};

/// The pool of `checkpoints` (in that order). InvalidArgument when two share a name: the table and
/// the router could not tell them apart.
ModelPool make_model_pool(const std::vector<std::string>& checkpoints);

/// Loads the checkpoint of a pool model by its name.
using ModelLoader = std::function<std::shared_ptr<const CausalLM>(const std::string& model)>;

/// A ModelLoader over `pool`: CausalLM::load of the named model's checkpoint with `options`.
ModelLoader pool_loader(ModelPool pool, ModelOptions options = {});

// ============================================================================ features for queries

/// Where query features come from (the CLI's FEATURES options, docs/routing.md): a features file
/// when given, else computed, through a FeatureCache, by a sentence encoder (agnostic) or by each
/// pool model's own checkpoint (specific).
struct FeatureSources {
  std::string features_file;       ///< precomputed (save_features_file); when set, nothing is computed
  std::string encoder;             ///< sentence-encoder checkpoint, for agnostic features
  /// How `encoder` is loaded (device, dtype); the caller chooses the device, as everywhere.
  EncoderOptions encoder_options;
  std::vector<std::string> models;  ///< candidate checkpoints, for specific features (any order)
  ModelOptions model_options;       ///< how `models` are loaded (device, dtype)
  std::string cache_dir;            ///< feature cache folder; empty: FeatureCache::default_dir()
  /// Asked once per computed stage ("features (encoder)", "features (<pool model>)") for that stage's
  /// progress callback (done, total, label; false cancels). The callback is destroyed when its
  /// stage ends, so a terminal bar it owns can finish its line. May be empty, and may return empty.
  std::function<ProgressCallback(const std::string& stage)> stage_progress;
};

/// Features of `queries` (rows in that order; `query_ids` name them in a features file) for the
/// models of `pool` (specific: one matrix per pool model, in pool order). From the features file
/// when given; else computed and cached: agnostic from `sources.encoder`, specific from the
/// checkpoint among `sources.models` whose pool_model_name is each pool model's (loaded one at a
/// time). Extractors are named by the checkpoints' absolute paths, so the cache serves every run over
/// the same checkpoints. InvalidArgument when the sources cannot give `kind` for this pool.
Features query_features(const FeatureSources& sources, FeatureKind kind, const std::vector<std::string>& query_ids,
                        const std::vector<std::string>& queries, const std::vector<std::string>& pool);
/// query_features for every query of `table`, for its models.
Features table_features(const FeatureSources& sources, FeatureKind kind, const RoutingTable& table);

// ============================================================================ building the table

/// (id, text) pairs of a prompts JSONL file, as NoveltyBench's files are: the id from "id" or
/// "query_id" (else "line-N"), the text from "prompt", "query" or "text". Blank lines are skipped;
/// `limit` > 0 keeps the first `limit` prompts. Throws IoError, FormatError (naming file:line) and
/// InvalidArgument when the file holds no prompt.
std::vector<std::pair<std::string, std::string>> load_prompts(const std::string& path, int64_t limit = 0);

/// Produces a model's answer set (B answers, generation order) for a query text. The pipeline gives
/// the Sampler's collect-until-B loop here (model_answer_sampler); tests give a function.
using AnswerSampler =
    std::function<std::vector<std::string>(const std::string& query, const std::string& model)>;

struct BuildDataOptions {
  /// Called after each computed cell (done, total cells to compute, "model"); false cancels (the
  /// rows written so far stay; throws Cancelled).
  ProgressCallback on_progress;
};

/// Appends one routing row per (query, model) cell that `out_path` does not hold yet, model by model
/// (so a sampler can keep one model loaded), flushing after each row: an interrupted run resumes
/// where it stopped. A torn last line (a crash mid-write) is cut off first. `queries` are (id, text)
/// pairs. Returns the number of cells computed.
int64_t build_routing_data(const std::vector<std::pair<std::string, std::string>>& queries,
                           const std::vector<std::string>& models, const AnswerSampler& sample,
                           const SetScorer& score, const std::string& out_path,
                           const BuildDataOptions& options = {});

struct ModelSamplerOptions {
  /// Strategy (one/two/all), budget B, generations per round, retry budget, sampling, seed,
  /// max_new_tokens. `ratios` must stay empty: a cell is one model's answer set.
  AnswerSetOptions answers;
  /// How answers are parsed: open-ended (NoveltyBench's prompts) or fixed-answer `{a, b}` lists.
  QuestionKind kind = QuestionKind::kOpen;
};

/// An AnswerSampler for build_routing_data that runs the Sampler's collect-until-B loop
/// (`collect_answers`) on the pool model named by the cell, loaded with `load`. One model is kept
/// loaded at a time (build_routing_data asks model by model); a model that falls short of B after
/// its retry budget gives the answers it has. Seeded: the same options give the same answers.
AnswerSampler model_answer_sampler(ModelLoader load, const ModelSamplerOptions& options);

/// A SetScorer from DivCov (`evaluate_divcov`) with an equivalence and a quality scorer, against
/// budget B (so a set short of B loses coverage): #Unq, Qual, UnqQual and Cov. An empty set scores 0.
SetScorer divcov_scorer(std::shared_ptr<const Equivalence> equivalence, std::shared_ptr<const QualityScorer> quality,
                        int64_t budget);

}  // namespace breadth
