// Query routing for sample diversity (router paper, SPEC §6).
//
// A router ranks a pool of candidate models for a query by how well each is expected to cover the
// query's answer space (div-cov). It is trained from a table of measured div-cov, one row per
// (query, model), and query features: one text encoder for all models ("agnostic") or each candidate
// model's own last-token hidden state ("specific"). The pieces are separate so that each can be used
// (and tested) alone: table I/O and splits, features, classifiers, baselines, the Table 3 report.
//
// This header is the router alone: it works on tables and features as data (JSONL tables,
// safetensors feature files, the feature cache) and needs no model, sampler or judge (component
// `routing`: core and io only). What produces that data from models (sampling and scoring answer
// sets into a table, features from candidate models or a text encoder, candidate pools) is
// breadth/router_pipeline.hpp (component `routing_pipeline`).
//
// Conventions: the pool is an ordered list of model names and every [.., M] tensor follows that
// order; ties in a ranking always go to the lower pool index, ties among neighbours (KNN) to the lower
// training row, so results never depend on sort implementation details.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "breadth/progress.hpp"

namespace breadth {

// ============================================================================ training data

/// The four figures of an answer set (router paper §4.2): number of unique answers, mean quality over
/// all answers, mean quality over unique answers, and div-cov.
struct SetFigures {
  double unq = 0, qual = 0, unq_qual = 0, div_cov = 0;
};

/// One JSONL line of a routing table: a model's answer set for a query and its figures.
/// JSON keys: query_id, query, model, div_cov, unq, qual, unq_qual, answers (optional array of
/// strings, in generation order; needed for exact two-model figures).
struct RoutingRow {
  std::string query_id;
  std::string query;
  std::string model;
  SetFigures figures;
  std::vector<std::string> answers;
};

/// Rows grouped by query into [Q, M] matrices. Query order is first appearance in the input; model
/// order is `TableOptions::pool` when given, else first appearance.
struct RoutingTable {
  std::vector<std::string> query_ids;
  std::vector<std::string> queries;
  std::vector<std::string> models;
  torch::Tensor div_cov, unq, qual, unq_qual;  ///< float64 [Q, M]
  /// answers[q][m]; all empty when the input had no answers.
  std::vector<std::vector<std::vector<std::string>>> answers;

  int64_t num_queries() const { return static_cast<int64_t>(query_ids.size()); }
  int64_t num_models() const { return static_cast<int64_t>(models.size()); }
  /// True when every cell carries its answer list.
  bool has_answers() const;
  SetFigures figures(int64_t q, int64_t m) const;
  /// The table restricted to `rows` (query indices), in that order.
  RoutingTable select(const std::vector<int64_t>& rows) const;
};

struct TableOptions {
  /// Model order of the [Q, M] matrices; models not listed are an error. Empty: first appearance.
  std::vector<std::string> pool;
  /// Queries lacking some model's row are dropped (instead of an InvalidArgument naming them).
  bool drop_incomplete = false;
};

/// Groups rows into a table. Throws InvalidArgument on a duplicate (query, model) cell, a query whose
/// text differs between rows, a model outside `pool`, or (unless drop_incomplete) a missing cell.
RoutingTable make_routing_table(const std::vector<RoutingRow>& rows, const TableOptions& options = {});
/// Reads a JSONL routing table. Throws IoError, FormatError (names file and line), InvalidArgument.
RoutingTable load_routing_table(const std::string& path, const TableOptions& options = {});
/// Parses one JSONL line (FormatError naming `where` on bad JSON or a missing/mistyped key).
RoutingRow parse_routing_row(const std::string& line, const std::string& where = "routing row");
/// One JSONL line (no trailing newline).
std::string routing_row_json(const RoutingRow& row);

/// Query indices of a seeded random split (Fisher–Yates with std::mt19937_64). Sizes are
/// round(n·train) and round(n·val); the rest is test. The split depends only on (n, seed, fractions).
struct Split {
  std::vector<int64_t> train, val, test;
};
Split split_queries(int64_t n, uint64_t seed, double train_fraction = 0.7, double val_fraction = 0.1);

// ============================================================================ features

enum class FeatureKind { kAgnostic, kSpecific };
const char* feature_kind_name(FeatureKind k);  ///< "agnostic" / "specific"
FeatureKind parse_feature_kind(const std::string& s);

/// Query features, row r for query r. Agnostic: one [N, D] matrix. Specific: one [N, D_m] matrix per
/// pool model, in pool order (dimensions may differ between models).
struct Features {
  FeatureKind kind = FeatureKind::kAgnostic;
  std::vector<torch::Tensor> mats;

  int64_t rows() const;
  std::vector<int64_t> dims() const;
  Features select(const std::vector<int64_t>& rows) const;
};

/// Something that turns query texts into feature rows: a text encoder, or one candidate model's
/// last-layer hidden state at the query's last token under its chat template (the pipeline's
/// ModelFeatureExtractor and EmbedderFeatureExtractor, breadth/router_pipeline.hpp), or anything a
/// caller brings.
class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  /// Identifies the extractor in cache keys (e.g. the model name); must change when features would.
  virtual std::string name() const = 0;
  /// [N, D] float32 features of `queries`.
  virtual torch::Tensor extract(const std::vector<std::string>& queries) = 0;
};

class FeatureCache;

/// Features of `queries` (rows in that order): agnostic from one extractor, specific from one
/// extractor per pool model (in pool order). With a cache, only rows it lacks are computed.
/// `progress` gets (rows done, rows in all, extractor name); false cancels (throws Cancelled).
Features compute_features(FeatureKind kind, const std::vector<FeatureExtractor*>& extractors,
                          const std::vector<std::string>& queries, FeatureCache* cache = nullptr,
                          const ProgressCallback& progress = {});

/// On-disk cache of feature rows keyed by a hash of (extractor name, query text): one safetensors
/// file per extractor under `dir`, rewritten atomically when rows are added. Only missing rows are
/// computed, in batches.
class FeatureCache {
 public:
  explicit FeatureCache(std::string dir);
  /// Rows for `queries` (from the cache, else computed and stored).
  torch::Tensor get(FeatureExtractor& extractor, const std::vector<std::string>& queries,
                    int64_t batch_size = 16,
                    const ProgressCallback& progress = {});
  /// FNV-1a 64 of name + '\0' + query: the cache key.
  static uint64_t key(const std::string& extractor_name, const std::string& query);
  /// $BREADTH_CACHE/route-features, else $HOME/.cache/breadth/route-features (./.cache/... without
  /// a HOME): where the CLI keeps computed features unless told otherwise.
  static std::string default_dir();
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

/// Precomputed features in one safetensors file: tensor "agnostic" [Q, D], or one tensor
/// "specific/<model name>" [Q, D_m] per pool model; metadata "query_ids" is a JSON array naming the
/// query of each row. Loading picks rows for `query_ids` (in that order) and models for `pool`.
void save_features_file(const std::string& path, const Features& features,
                        const std::vector<std::string>& query_ids,
                        const std::vector<std::string>& pool);
Features load_features_file(const std::string& path, FeatureKind kind,
                            const std::vector<std::string>& query_ids,
                            const std::vector<std::string>& pool);

// ============================================================================ routers

/// kBert: a BERT-family encoder with a classification head fine-tuned on query texts (router paper
/// §4.2). It reads query texts, not features, and needs an encoder, so it is trained and loaded by
/// the pipeline (train_bert_router / load_router in breadth/router_pipeline.hpp).
enum class RouterKind { kKnn, kMwayMlp, kBinaryMlp, kBert };
const char* router_kind_name(RouterKind k);  ///< "knn", "mway_mlp", "binary_mlp", "bert"
RouterKind parse_router_kind(const std::string& s);

/// Training targets (router paper, Appendix E). one-hot: 1[i = i*]; soft: div-cov_i / max_j div-cov_j.
enum class LabelType { kOneHot, kSoft };
const char* label_type_name(LabelType t);  ///< "one_hot", "soft"
LabelType parse_label_type(const std::string& s);

/// Grid searched on the validation split; each point is trained with early stopping.
struct MlpGrid {
  std::vector<int64_t> hidden = {64, 256};
  std::vector<double> weight_decay = {0.0, 1e-4, 1e-2};
  std::vector<LabelType> labels = {LabelType::kSoft, LabelType::kOneHot};
  double learning_rate = 1e-3;  ///< Adam (paper: 1e-3)
  int64_t batch_size = 64;
  int64_t max_epochs = 200;
  int64_t patience = 20;  ///< epochs without a lower validation loss before stopping
};

struct TrainOptions {
  RouterKind kind = RouterKind::kBinaryMlp;
  int64_t knn_k = 5;
  MlpGrid grid;
  uint64_t seed = 0;
  /// Called after each grid point (done, total, label); false cancels (throws Cancelled).
  ProgressCallback on_progress;
  /// Deprecated: the former name of on_progress, used only while on_progress is empty. (Not marked
  /// [[deprecated]]: GCC would then warn in every implicitly defined constructor of these options.)
  ProgressCallback progress;
};

/// Everything needed to rebuild a router and to check it is used with the right pool and features.
struct RouterConfig {
  RouterKind kind = RouterKind::kBinaryMlp;
  FeatureKind feature_kind = FeatureKind::kAgnostic;
  std::vector<std::string> pool;
  std::vector<int64_t> feature_dims;  ///< one entry (agnostic) or one per pool model (specific)
  std::string feature_source;         ///< free text: which encoder/models made the features
  int64_t knn_k = 0;
  int64_t hidden = 0;
  double weight_decay = 0;
  LabelType labels = LabelType::kSoft;
  uint64_t seed = 0;
  int64_t epochs = 0;            ///< epochs of the selected grid point (best validation loss)
  int64_t max_length = 0;        ///< kBert: longest tokenized query, special tokens included
  double val_div_cov = 0;        ///< mean div-cov of the router's top-1 on the validation split
  /// Training-split summaries, so baselines can be rebuilt for data the router was not trained on.
  std::vector<double> train_mean_div_cov;
  std::vector<int64_t> train_wins;
};

class Router {
 public:
  virtual ~Router() = default;
  const RouterConfig& config() const { return config_; }
  const std::vector<std::string>& pool() const { return config_.pool; }

  /// [N, M] float64 scores (higher is better). Throws InvalidArgument when the features' kind or
  /// dimensions differ from the ones the router was trained on.
  virtual torch::Tensor scores(const Features& features) const = 0;
  /// Pool indices of each row from best to worst (ties to the lower index).
  std::vector<std::vector<int64_t>> rank(const Features& features) const;

  /// True for routers that read query texts instead of features (kBert).
  bool reads_texts() const { return config_.kind == RouterKind::kBert; }
  /// [N, M] float64 scores of query texts. Text routers only: the others throw InvalidArgument
  /// (they need features: compute them with the pipeline's query_features).
  virtual torch::Tensor scores_texts(const std::vector<std::string>& queries) const;
  std::vector<std::vector<int64_t>> rank_texts(const std::vector<std::string>& queries) const;

  /// Writes `dir`/router.json and `dir`/weights.safetensors (creates `dir`).
  void save(const std::string& dir) const;
  /// Loads a saved router. With a non-empty `expected_pool`, a router trained for another pool
  /// (names or order) is refused with InvalidArgument naming both pools. A kBert router needs its
  /// encoder: it is refused here with InvalidArgument pointing to load_router
  /// (breadth/router_pipeline.hpp), which loads every kind.
  static std::shared_ptr<Router> load(const std::string& dir,
                                      const std::vector<std::string>& expected_pool = {});

 protected:
  explicit Router(RouterConfig config) : config_(std::move(config)) {}
  /// Named tensors written to weights.safetensors.
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() const = 0;
  /// Anything else save() writes into `dir` (the BERT router: its fine-tuned encoder checkpoint).
  virtual void save_extra(const std::string& dir) const { (void)dir; }
  RouterConfig config_;
};

/// A saved router's router.json (Router::save), checked as Router::load checks it (FormatError,
/// InvalidArgument for another pool), without its weights.
RouterConfig read_router_config(const std::string& dir, const std::vector<std::string>& expected_pool = {});

/// Trains one router on `split.train`, choosing hyper-parameters on `split.val` (MLPs: the grid point
/// whose top-1 picks have the highest mean validation div-cov, ties to the lower validation loss).
/// kBert is refused (InvalidArgument): it trains on texts with train_bert_router.
std::shared_ptr<Router> train_router(const RoutingTable& table, const Features& features,
                                     const Split& split, const TrainOptions& options);

/// Answers per model when a query goes to k models: even (remainder to the better-ranked models) or
/// proportional to `ratios` (largest remainders, ties to the better-ranked).
std::vector<int64_t> route_budgets(int64_t budget, int64_t k, const std::vector<double>& ratios = {});

struct RouteDecision {
  std::vector<std::string> models;  ///< best first
  std::vector<int64_t> budgets;     ///< answers each model should produce
  std::vector<double> scores;       ///< the router's scores of `models`
};
/// A routing request's defaults, in one place for every face: one model, the router paper's budget
/// of 50 answers per query, split evenly.
struct RouteDefaults {
  static constexpr int64_t k = 1;
  static constexpr int64_t budget = 50;
  static constexpr uint64_t seed = 0;  ///< evaluate_router's random and frequency baselines
};
/// Routes row `row` of `features` to the router's top-k models.
RouteDecision route(const Router& router, const Features& features, int64_t row, int64_t k = RouteDefaults::k,
                    int64_t budget = RouteDefaults::budget, const std::vector<double>& ratios = {});
/// Routes a query text with a text router (kBert; InvalidArgument for the others).
RouteDecision route_text(const Router& router, const std::string& query, int64_t k = RouteDefaults::k,
                         int64_t budget = RouteDefaults::budget, const std::vector<double>& ratios = {});

// ============================================================================ evaluation

/// Figures of an arbitrary answer set for a query (DivCov with the table's equivalence and quality;
/// the pipeline's `divcov_scorer` makes one). Given to the report, it makes two-model figures exact;
/// without it they are approximated (see `pair_figures`). A plain function type, so the router
/// needs no judge.
using SetScorer =
    std::function<SetFigures(const std::string& query, const std::vector<std::string>& answers)>;

/// Figures of query q answered by models a then b with budgets (na, nb). Exact when `scorer` is set
/// and the table has answers: the first na answers of a followed by the first nb of b, scored as one
/// set. Otherwise the budget-weighted approximation: each model's share w = n/(na+nb) is assumed to
/// carry w of its unique answers and unique-quality sum, with no duplicates across the two models:
/// #Unq, Qual and Cov are w-weighted means, UnqQual is weighted by w·#Unq.
SetFigures pair_figures(const RoutingTable& table, int64_t q, int64_t a, int64_t b, int64_t na,
                        int64_t nb, const SetScorer& scorer = {});

/// Figures of query q answered by `models` in order with `budgets[i]` answers each (k >= 1 models,
/// distinct). Exact when `scorer` is set and the table has answers: the first budgets[i] answers of
/// each model, concatenated in order, scored as one set. Otherwise pair_figures' approximation for k
/// models: weights w_i = budgets[i] / Σ budgets; #Unq, Qual and Cov are w-weighted means, UnqQual is
/// weighted by w_i·#Unq_i. pair_figures(t, q, a, b, na, nb) = set_figures(t, q, {a, b}, {na, nb}).
SetFigures set_figures(const RoutingTable& table, int64_t q, const std::vector<int64_t>& models,
                       const std::vector<int64_t>& budgets, const SetScorer& scorer = {});

// ---------------------------------------------------------------- budget ratios (Appendix H.2)

/// Every split of `budget` over k models in multiples of `step` (shares >= 0, summing to budget),
/// ordered by the first share ascending, then the second, ... (k = 2, B = 50, step 5: 0:50, 5:45,
/// ..., 50:0, as Table 9 lists them). InvalidArgument unless k >= 1, step >= 1 and step divides B.
std::vector<std::vector<int64_t>> budget_splits(int64_t budget, int64_t k, int64_t step);

/// The split of `budget` over `models` (in that order) with the highest Cov for query q, among
/// budget_splits(budget, k, step); ties go to the earlier split.
struct RatioChoice {
  std::vector<int64_t> budgets;
  SetFigures figures;
};
RatioChoice best_split(const RoutingTable& table, int64_t q, const std::vector<int64_t>& models, int64_t budget,
                       int64_t step, const SetScorer& scorer = {});

struct RatioOptions {
  int64_t models = 2;  ///< k: models answering each query (2 in the paper; 3 or more allowed)
  int64_t budget = 50;
  int64_t step = 5;    ///< granularity of the splits (the paper: 5 answers)
  uint64_t seed = 0;   ///< draws of the random model sets
  SetScorer scorer;    ///< exact merged-set figures when the table has answers
};

/// One line of a ratio table: mean figures over the table's queries.
struct RatioRow {
  std::string method;            ///< "Oracle models", "Top 2 models", "Random models", "Oracle ratio", ...
  std::vector<int64_t> budgets;  ///< the global split; empty for per-question splits
  SetFigures mean;
};

/// The router paper's Tables 9 and 10 for k models over a table's queries.
/// Table 9 (`global`), for each split of budget_splits: "Oracle models" (per query the best set of
/// k models at that split, the models ordered by their own div-cov, better first), "Top k models"
/// (the k models of highest mean div-cov over the table, in that order) and "Random models" (k
/// distinct models drawn per query with `seed`, ordered by their own div-cov). Table 10
/// (`per_question`), always the top k models: "Oracle ratio" (per query the best split,
/// best_split), "Overall best (a:b)" (the one split of highest mean Cov for them) and "Even split"
/// (route_budgets(B, k)).
struct RatioReport {
  int64_t queries = 0, budget = 0, step = 0;
  std::vector<std::string> top_models;
  bool exact = false;
  std::vector<RatioRow> global, per_question;
  std::string to_markdown() const;
  std::string to_json() const;
};
RatioReport ratio_report(const RoutingTable& table, const RatioOptions& options = {});

// ---------------------------------------------------------------- dominant models (Figures 1, 6)

/// How often each model is the dominant model of a query (router paper §3.1, Figures 1 and 6): its
/// div-cov is the highest and at least `margin` higher, relatively, than every other model's
/// (best >= (1 + margin) · second best; the paper's "5% higher", Figure 6 "10% higher"). A query
/// whose best is 0 has no dominant model, nor does one whose two best are within the margin.
struct DominanceFrequency {
  double margin = 0;
  int64_t queries = 0;
  std::vector<int64_t> dominant;  ///< per pool model: queries it dominates
  int64_t none = 0;               ///< "No dominant single models"
};
DominanceFrequency dominant_models(const RoutingTable& table, double margin);

/// A method's choice for each query: one model, or two with their budgets.
struct Pick {
  std::vector<int64_t> models;
  std::vector<int64_t> budgets;
};

/// Baselines (router paper §4.2), using only the training rows' labels except the oracles.
namespace baselines {
std::vector<Pick> top_overall(const RoutingTable& train, int64_t n_queries);
std::vector<Pick> top_two_overall(const RoutingTable& train, int64_t n_queries, int64_t budget = 50);
std::vector<Pick> random_model(int64_t n_models, int64_t n_queries, uint64_t seed);
/// Models drawn in proportion to training wins (oracle top-1 counts on `train`).
std::vector<Pick> frequency(const RoutingTable& train, int64_t n_queries, uint64_t seed);
std::vector<Pick> oracle_top1(const RoutingTable& test);
/// The best pair of all M(M-1)/2 per query (by pair_figures' Cov).
std::vector<Pick> oracle_top2(const RoutingTable& test, int64_t budget = 50,
                              const SetScorer& scorer = {});
}  // namespace baselines

/// Mean figures of picks over a table's queries, plus accuracy: the fraction of queries whose pick
/// reaches the oracle's div-cov (of one model for one-model picks, of the best pair for pairs).
struct MethodFigures {
  SetFigures mean;
  double accuracy = 0;
  std::vector<double> per_query_cov;
};
MethodFigures evaluate_picks(const RoutingTable& table, const std::vector<Pick>& picks,
                             int64_t budget = 50, const SetScorer& scorer = {});

/// Paired tests over queries of x vs y (same length): two-sided paired t-test, and a two-sided
/// sign-flip permutation test on the mean difference (`permutations` random flips, seeded, p with the
/// +1 correction).
struct PairedTest {
  double mean_diff = 0;
  double t = 0;
  double t_p = 1;
  double perm_p = 1;
  int64_t n = 0;
};
PairedTest paired_test(const std::vector<double>& x, const std::vector<double>& y,
                       int64_t permutations = 10000, uint64_t seed = 0);

/// A router that the report trains from the table's query texts rather than from a feature set (the
/// pipeline's fine-tuned BERT router: bert_report_router in breadth/router_pipeline.hpp). `train`
/// returns a text router (Router::reads_texts) trained on split.train (selected on split.val) with
/// the seed given.
struct TextRouterTrainer {
  std::string name;  ///< the report's row, e.g. "BERT (fine-tuned)"
  std::function<std::shared_ptr<Router>(const RoutingTable& table, const Split& split, uint64_t seed)> train;
};

struct ReportOptions {
  int64_t seeds = 5;          ///< training seeds (and random/frequency draws); the split is fixed
  uint64_t first_seed = 0;
  int64_t budget = 50;
  int64_t permutations = 10000;
  MlpGrid grid;
  std::vector<int64_t> knn_k = {1, 5};
  bool mway = true, binary = true, pairs = true;
  /// Routers trained on query texts, each seed, after the feature routers (default none).
  std::vector<TextRouterTrainer> text_routers;
  SetScorer scorer;
  /// Margins of the dominant-model frequencies reported (Figures 1 and 6: 5% and 10%), on the
  /// whole table.
  std::vector<double> dominance_margins = {0.05, 0.10};
  /// Called after each job (done, total, job name); false cancels (throws Cancelled).
  ProgressCallback on_progress;
  /// Deprecated: the former name of on_progress, used only while on_progress is empty. (Not marked
  /// [[deprecated]]: GCC would then warn in every implicitly defined constructor of these options.)
  ProgressCallback progress;
};

/// One line of the report: mean and sample standard deviation over seeds of the test-split means.
struct ReportRow {
  std::string method;
  bool two_models = false;
  bool is_router = false;
  SetFigures mean, spread;
  double accuracy = 0, accuracy_spread = 0;
  std::vector<double> per_query_cov;  ///< averaged over seeds
};

struct RoutingReport {
  std::vector<ReportRow> rows;
  int64_t test_queries = 0, seeds = 0;
  bool exact_pairs = false;
  /// Best one-model router vs Top overall, and best router top-2 vs Top 2 overall (when present).
  std::string best_router, best_pair_router;
  std::optional<PairedTest> vs_top_overall, vs_top_two_overall;
  /// Dominant-model frequencies over the whole table, one per ReportOptions::dominance_margins.
  std::vector<std::string> models;
  std::vector<DominanceFrequency> dominance;

  std::string to_markdown() const;
  std::string to_json() const;
};

/// A trained router on every query of `table` (e.g. held-out or out-of-domain data), beside the
/// baselines its training summary defines (Top overall / Top 2 overall from the training means,
/// Frequency from the training wins), Random and the oracles. One run: spreads are 0. The router's
/// pool must be the table's models (InvalidArgument naming both otherwise).
RoutingReport evaluate_router(const Router& router, const RoutingTable& table, const Features& features,
                              int64_t budget = RouteDefaults::budget, uint64_t seed = RouteDefaults::seed,
                              const SetScorer& scorer = {},
                              int64_t permutations = 10000);

/// The Table 3 experiment: for each feature set (name -> features for all table rows), trains KNN,
/// M-way and binary MLP routers on split.train (grid on split.val) for each seed, then each of
/// ReportOptions::text_routers, and reports every router and baseline on split.test.
/// `evaluate_router` of a text router ignores `features` (it reads the table's query texts).
RoutingReport routing_report(const RoutingTable& table,
                             const std::vector<std::pair<std::string, Features>>& feature_sets,
                             const Split& split, const ReportOptions& options = {});

}  // namespace breadth
