// Small pure functions shared by the routing sources; each is tested on tiny tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <tuple>
#include <random>
#include <string>
#include <vector>

#include "breadth/router.hpp"
#include "core/files.hpp"

namespace breadth::routing {

// ---------------------------------------------------------------- labels and rankings

/// Oracle label per row: argmax of a [Q, M] matrix, ties to the lower column.
std::vector<int64_t> argmax_rows(const torch::Tensor& m);
/// [Q, M] one-hot of argmax_rows (float32).
torch::Tensor one_hot_labels(const torch::Tensor& div_cov);
/// [Q, M] div-cov_i / max_j div-cov_j (float32); a row whose max is 0 (no model produced anything of
/// value) is all ones: every model is as good as the best.
torch::Tensor soft_labels(const torch::Tensor& div_cov);
torch::Tensor labels_for(const torch::Tensor& div_cov, LabelType t);
/// Column indices of each row of `scores` from highest to lowest, ties to the lower column.
std::vector<std::vector<int64_t>> rank_rows(const torch::Tensor& scores);

// ---------------------------------------------------------------- KNN

/// Rows of `x` scaled to unit L2 norm (float64); an all-zero row stays zero (cosine 0 to everything).
torch::Tensor unit_rows(const torch::Tensor& x);
/// One matrix for cosine KNN: agnostic features as they are; specific features as the concatenation
/// of each model's unit-normalized block, so that the cosine of two rows is the mean of the per-model
/// cosines.
torch::Tensor knn_matrix(const Features& f);
/// [N, k] indices of the k training rows most cosine-similar to each query row; equal similarities
/// go to the lower training row (stable sort).
torch::Tensor knn_neighbours(const torch::Tensor& train, const torch::Tensor& queries, int64_t k);
/// [N, M]: mean of the neighbours' div-cov rows.
torch::Tensor knn_scores(const torch::Tensor& train, const torch::Tensor& train_div_cov,
                         const torch::Tensor& queries, int64_t k);

// ---------------------------------------------------------------- routers (internal classes)

class KnnRouter final : public Router {
 public:
  KnnRouter(RouterConfig config, torch::Tensor train_features, torch::Tensor train_div_cov);
  torch::Tensor scores(const Features& features) const override;
  RouterConfig& mutable_config() { return config_; }

 protected:
  std::vector<std::pair<std::string, torch::Tensor>> state() const override;

 private:
  torch::Tensor train_, div_cov_;
};

/// Parameters of M-way (one [D]->[H]->[M] MLP) or binary (M independent [D_m]->[H]->[1] MLPs,
/// stored stacked with input zero-padded to the largest D_m) routers, with the input standardization
/// fitted on the training rows.
struct MlpParams {
  torch::Tensor w1, b1, w2, b2;  ///< M-way: [D,H],[H],[H,M],[M]. binary: [M,D,H],[M,H],[M,H],[M]
  torch::Tensor mean, std;       ///< M-way: [D]; binary: [M, D]
};

class MlpRouter final : public Router {
 public:
  MlpRouter(RouterConfig config, MlpParams params);
  torch::Tensor scores(const Features& features) const override;
  const MlpParams& params() const { return p_; }
  RouterConfig& mutable_config() { return config_; }

 protected:
  std::vector<std::pair<std::string, torch::Tensor>> state() const override;

 private:
  MlpParams p_;
};

/// The input of an MLP router as one tensor: M-way [N, D] (specific blocks concatenated in pool
/// order); binary [M, N, Dmax] (agnostic features repeated, specific ones zero-padded).
torch::Tensor mlp_input(const Features& f, RouterKind kind);
/// Logits [N, M] of standardized inputs.
torch::Tensor mlp_forward(const MlpParams& p, RouterKind kind, const torch::Tensor& x_std);
torch::Tensor standardize(const MlpParams& p, const torch::Tensor& x);
/// Checks that `f` matches the router's feature kind and dims (InvalidArgument otherwise).
void check_features(const RouterConfig& c, const Features& f);

struct MlpFit {
  MlpParams params;
  double val_loss = 0;
  int64_t epochs = 0;
};
/// Loss of (x, y) under `params` (x standardized, layout of mlp_input) and its gradient, computed by
/// the hand-written backward pass the trainer uses (no autograd). For tests.
struct MlpGradient {
  double loss = 0;
  MlpParams grad;  ///< w1, b1, w2, b2 only
};
MlpGradient mlp_loss_gradient(RouterKind kind, const MlpParams& params, const torch::Tensor& x,
                              const torch::Tensor& y);
/// The training loss (M-way soft cross-entropy or binary BCE-with-logits, both means) of `params`.
double mlp_loss(RouterKind kind, const MlpParams& params, const torch::Tensor& x, const torch::Tensor& y);

/// One step of torch.optim.Adam (L2 weight decay added to the gradient, no amsgrad) over flat float
/// buffers (parameters, gradient, first and second moments), fused into one pass; `step` counts from 1.
void adam_step(float* p, const float* g, float* m, float* v, int64_t n, int64_t step, double lr, double wd,
               double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);

/// Trains one grid point: Adam (fused, on hand-written gradients), minibatches (one full batch when
/// batch_size >= rows), early stopping on validation loss (best weights kept).
/// Losses: M-way soft-max cross-entropy against the labels normalized to sum 1 (one-hot: plain CE
/// against i*); binary: binary cross-entropy with logits per (query, model), mean over both.
MlpFit fit_mlp(RouterKind kind, const torch::Tensor& x_train, const torch::Tensor& y_train,
               const torch::Tensor& x_val, const torch::Tensor& y_val, int64_t hidden,
               double weight_decay, const MlpGrid& grid, uint64_t seed);

// ---------------------------------------------------------------- evaluation

/// Two-model figures of a table's queries, computed once per (query, models, budgets): exact figures
/// may cost a cross-encoder pass per pair.
class PairCache {
 public:
  PairCache(const RoutingTable& table, SetScorer scorer) : t_(table), scorer_(std::move(scorer)) {}
  SetFigures get(int64_t q, int64_t a, int64_t b, int64_t na, int64_t nb);
  /// The best ordered pair of query q (better single model first) and its figures.
  std::pair<std::pair<int64_t, int64_t>, SetFigures> best(int64_t q, int64_t budget);
  bool exact() const { return scorer_ && t_.has_answers(); }
  const SetScorer& scorer() const { return scorer_; }

 private:
  const RoutingTable& t_;
  SetScorer scorer_;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>, SetFigures> cache_;
  std::map<std::pair<int64_t, int64_t>, std::pair<std::pair<int64_t, int64_t>, SetFigures>> best_;
};
MethodFigures evaluate_with(const RoutingTable& table, const std::vector<Pick>& picks, int64_t budget,
                            PairCache& pairs);

/// Regularized incomplete beta I_x(a, b) (continued fraction); used for Student-t p-values.
double incomplete_beta(double a, double b, double x);
/// Two-sided p-value of Student's t with df degrees of freedom.
double t_two_sided_p(double t, double df);

// ---------------------------------------------------------------- misc

/// std::mt19937_64 draws mapped without implementation-defined distributions (portable results).
inline int64_t draw_index(std::mt19937_64& g, int64_t n) { return static_cast<int64_t>(g() % static_cast<uint64_t>(n)); }
inline double draw_unit(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

std::string join_names(const std::vector<std::string>& v);

/// The options' progress callback: on_progress, else the deprecated `progress` field that callers
/// written before the rename still set.
template <typename Options>
const ProgressCallback& progress_callback(const Options& o) {
  return o.on_progress ? o.on_progress : o.progress;
}

}  // namespace breadth::routing
