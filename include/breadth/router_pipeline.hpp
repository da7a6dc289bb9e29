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
/// time). Extractors are named by the checkpoints' absolute paths plus a fingerprint of their files
/// (name, size, modification time), so the cache serves every run over the same checkpoints and
/// never a checkpoint rewritten in place. InvalidArgument when the sources cannot give `kind` for
/// this pool.
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

// ============================================================================ the fine-tuned BERT router

/// The router paper's fine-tuned BERT router (§4.2): a BERT-family encoder (BERT or RoBERTa, e.g.
/// all-MiniLM-L6-v2) whose last hidden states are mean-pooled over the query's tokens and fed to a
/// linear head over the pool's M models, trained end to end on the query texts with AdamW.
///
/// Training as the M-way MLP's (docs/routing.md): softmax cross-entropy against the labels
/// normalized to sum to 1 (one-hot: -log p(i*); soft: div-cov_i / max_j div-cov_j), minibatches
/// shuffled each epoch, early stopping on the validation loss (the best epoch's weights are kept),
/// and each label type of `labels` trained in turn, the one whose top-1 picks have the highest mean
/// validation div-cov kept (ties to the earlier). No dropout. The head is initialized as PyTorch's
/// nn.Linear (U(±1/√hidden), weight then bias) from a torch::Generator seeded with `seed`, which then
/// draws each epoch's permutation (torch::randperm): a seed reproduces a router on one machine.
///
/// CPU cost: one forward and backward pass of the encoder per training query and epoch. With
/// all-MiniLM-L6-v2 (22M parameters), queries cut to 64 tokens, 16 per batch, a few hundred training
/// queries take seconds per epoch on a few cores, so the defaults (at most 10 epochs, 2 label types)
/// finish in minutes.
struct BertRouterOptions {
  /// The base encoder checkpoint (a Hugging Face BERT or RoBERTa directory with its tokenizer).
  std::string encoder;
  /// Where the encoder is trained and run (float32 always).
  torch::Device device = torch::kCPU;
  /// Longest tokenized query, special tokens included (capped by the encoder's position table).
  int64_t max_length = 64;
  double learning_rate = 2e-5;   ///< AdamW (paper: 2e-5)
  double weight_decay = 0.01;    ///< AdamW's decoupled weight decay (torch.optim.AdamW's default)
  int64_t batch_size = 16;
  int64_t max_epochs = 10;
  int64_t patience = 3;          ///< epochs without a lower validation loss before stopping
  std::vector<LabelType> labels = {LabelType::kSoft, LabelType::kOneHot};
  uint64_t seed = 0;
  /// Called after each epoch (done, max epochs of all label types, label); false cancels (throws
  /// Cancelled).
  ProgressCallback on_progress;
  /// Called after each optimizer step with (epoch from 0, step within the epoch from 0, the
  /// minibatch's loss before the step). May be empty.
  std::function<void(int64_t epoch, int64_t step, double loss)> on_step;
};

/// Trains the fine-tuned BERT router on `split.train` (early stopping and label choice on
/// `split.val`; the training rows when it is empty). The router reads query texts
/// (Router::scores_texts, route_text). Router::save writes router.json, weights.safetensors (the
/// head: "head.weight" [M, hidden], "head.bias" [M]) and `encoder/`: the fine-tuned encoder as a
/// checkpoint of its own (config.json, the base's tokenizer files, model.safetensors), so a saved
/// router loads without the base checkpoint or the training data. Throws InvalidArgument (options,
/// split), IoError / FormatError / Unsupported from loading the encoder.
std::shared_ptr<Router> train_bert_router(const RoutingTable& table, const Split& split,
                                          const BertRouterOptions& options);

/// Loads a saved router of any kind: Router::load for the feature routers, and the BERT router with
/// its fine-tuned encoder (on `device`). `expected_pool` as in Router::load.
std::shared_ptr<Router> load_router(const std::string& dir, const std::vector<std::string>& expected_pool = {},
                                    torch::Device device = torch::kCPU);

/// The BERT router as a row of routing_report (ReportOptions::text_routers): "BERT (fine-tuned)",
/// trained with `options` and each report seed.
TextRouterTrainer bert_report_router(BertRouterOptions options);

// ============================================================================ whole steps, from files to files

/// Comma-separated lists of the routing enums, as the faces take them ("agnostic,specific",
/// "soft,one_hot"; surrounding spaces ignored). InvalidArgument for an empty list or an unknown name.
std::vector<FeatureKind> parse_feature_kinds(const std::string& list);
std::vector<LabelType> parse_label_types(const std::string& list);

/// The build-data step (the CLI's `route build-data`, C's breadth_routing_data_build, Python's
/// build_routing_data): the prompts of a prompts file, each candidate checkpoint's answer set
/// sampled with the Sampler's collect-until-B loop (model_answer_sampler) and scored with DivCov
/// against B (divcov_scorer over make_equivalence / make_quality), appended resumably to a routing
/// table (build_routing_data above); optionally a features file of the table's queries too.
struct RoutingDataOptions {
  std::string prompts;               ///< prompts JSONL (load_prompts)
  int64_t limit = 0;                 ///< > 0: the first `limit` prompts only
  std::vector<std::string> models;   ///< candidate checkpoints, in pool order (pool_model_name names them)
  std::string out;                   ///< the routing table (JSONL) to write or complete
  /// Strategy, budget B (answers per cell, also DivCov's budget), generations per round, retry
  /// budget, max_new_tokens, sampling seed, question kind: the Sampler's answer-set defaults.
  ModelSamplerOptions sampler;
  ModelOptions model_options;        ///< how the candidates load; its device also runs the judges
  std::string equivalence = "noveltybench-shortcut";  ///< make_equivalence spec (breadth/spec.hpp)
  std::string quality = "const:1";                    ///< make_quality spec
  /// When set, also writes the table's query features there (save_features_file) of `feature_kind`
  /// from `features` (whose `models` default to `models` when empty).
  std::string features_out;
  FeatureKind feature_kind = FeatureKind::kAgnostic;
  FeatureSources features;
  /// After each computed cell (done, total cells to compute, model); false cancels (Cancelled).
  ProgressCallback on_progress;
};

struct RoutingDataResult {
  int64_t computed = 0;              ///< cells computed by this call (0 when the table was complete)
  int64_t queries = 0;               ///< prompts read
  std::vector<std::string> models;   ///< the pool's names, in pool order
};

/// Runs the build-data step. Throws InvalidArgument (no model, no output, bad specs), IoError,
/// FormatError, Cancelled; a cancelled or failed run leaves the rows written so far.
RoutingDataResult build_routing_data(const RoutingDataOptions& options);

/// Router training from files (the CLI's `route train`): the table's 70/10/20 split seeded by
/// `split_seed`, features from `features` (none for the BERT router, which reads the query texts),
/// `train_router` (or train_bert_router for kind kBert), the router saved to `out`.
struct RouterTrainingOptions {
  std::string table;                 ///< routing table (JSONL)
  std::string out;                   ///< router folder to write (Router::save)
  FeatureKind feature_kind = FeatureKind::kAgnostic;
  FeatureSources features;
  uint64_t split_seed = 0;
  /// Kind, KNN's k, the MLP grid, the seed, progress. For kind kBert the BERT router takes its seed,
  /// label types (grid.labels) and progress from here too.
  TrainOptions train;
  /// kind kBert only: the encoder to fine-tune (empty: `features.encoder`), run on
  /// `features.encoder_options.device`, and the --bert-* values; its seed, labels and progress are
  /// `train`'s.
  BertRouterOptions bert;
};

struct TrainedRouter {
  std::shared_ptr<Router> router;  ///< as saved
  Split split;                     ///< the split it was trained on
};

TrainedRouter train_router_from_files(const RouterTrainingOptions& options);

/// The router paper's Table 3 from files (the CLI's `route report`): routing_report over one feature
/// set per kind of `feature_kinds` ("agn", "spec"), the split seeded by `split_seed`, plus the
/// fine-tuned BERT row when `bert_encoder` is set. Writes the JSON (RoutingReport::to_json, then a
/// newline) to `json_out` and the Markdown to `markdown_out` when those are set.
struct RoutingReportRunOptions {
  std::string table;
  std::vector<FeatureKind> feature_kinds = {FeatureKind::kAgnostic};
  FeatureSources features;
  uint64_t split_seed = 0;
  ReportOptions report;              ///< seeds, first seed, budget, MLP grid, progress
  /// When set, Table 3's BERT row: this checkpoint fine-tuned per seed with `bert` (its labels are
  /// report.grid.labels, its device features.encoder_options.device).
  std::string bert_encoder;
  BertRouterOptions bert;
  std::string json_out, markdown_out;
};

RoutingReport run_routing_report(const RoutingReportRunOptions& options);

}  // namespace breadth
