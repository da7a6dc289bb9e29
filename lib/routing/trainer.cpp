// train_router: one router from a table, features and a split (grid search on validation).
#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

namespace {

double mean_top1_div_cov(const RoutingTable& t, const torch::Tensor& scores) {
  auto ranks = rank_rows(scores);
  auto dc = t.div_cov.accessor<double, 2>();
  double s = 0;
  for (size_t q = 0; q < ranks.size(); ++q) s += dc[static_cast<int64_t>(q)][ranks[q][0]];
  return ranks.empty() ? 0.0 : s / static_cast<double>(ranks.size());
}

void check_split(const Split& split, int64_t q) {
  BREADTH_CHECK_ARG(!split.train.empty(), "train_router: the training split is empty");
  for (const auto* part : {&split.train, &split.val, &split.test})
    for (auto i : *part)
      BREADTH_CHECK_ARG(i >= 0 && i < q, "train_router: split index {} outside the table's {} queries", i, q);
}

}  // namespace

std::shared_ptr<Router> train_router(const RoutingTable& table, const Features& features,
                                     const Split& split, const TrainOptions& options) {
  BREADTH_CHECK_ARG(options.kind != RouterKind::kBert,
                    "train_router: a bert router trains on query texts with its encoder; call train_bert_router "
                    "(breadth/router_pipeline.hpp)");
  const int64_t Q = table.num_queries(), M = table.num_models();
  check_split(split, Q);
  BREADTH_CHECK_ARG(!features.mats.empty() && features.rows() == Q,
                    "train_router: {} feature rows for {} queries", features.mats.empty() ? 0 : features.rows(), Q);
  BREADTH_CHECK_ARG(features.kind == FeatureKind::kAgnostic ? features.mats.size() == 1
                                                            : static_cast<int64_t>(features.mats.size()) == M,
                    "train_router: {} features need {} matrices, got {}", feature_kind_name(features.kind),
                    features.kind == FeatureKind::kAgnostic ? 1 : M, features.mats.size());
  for (const auto& m : features.mats)
    BREADTH_CHECK_ARG(m.dim() == 2 && m.size(0) == Q && m.size(1) > 0,
                      "train_router: every feature matrix must be [{} queries, dim > 0]", Q);

  RoutingTable train = table.select(split.train);
  RoutingTable val = table.select(split.val.empty() ? split.train : split.val);
  Features f_train = features.select(split.train);
  Features f_val = features.select(split.val.empty() ? split.train : split.val);

  RouterConfig c;
  c.kind = options.kind;
  c.feature_kind = features.kind;
  c.pool = table.models;
  c.feature_dims = features.dims();
  c.seed = options.seed;
  auto mean = train.div_cov.mean(0);
  for (int64_t m = 0; m < M; ++m) c.train_mean_div_cov.push_back(mean[m].item<double>());
  c.train_wins.assign(static_cast<size_t>(M), 0);
  for (auto i : argmax_rows(train.div_cov)) ++c.train_wins[i];

  if (options.kind == RouterKind::kKnn) {
    c.knn_k = options.knn_k;
    auto r = std::make_shared<KnnRouter>(c, knn_matrix(f_train), train.div_cov);
    r->mutable_config().val_div_cov = mean_top1_div_cov(val, r->scores(f_val));
    return r;
  }

  const MlpGrid& g = options.grid;
  BREADTH_CHECK_ARG(!g.hidden.empty() && !g.weight_decay.empty() && !g.labels.empty(),
                    "MlpGrid: hidden, weight_decay and labels each need at least one value");
  // Standardization fitted on the training rows only.
  auto x_all = mlp_input(features, options.kind);
  auto x_tr = x_all.dim() == 3 ? x_all.index_select(1, torch::tensor(split.train, torch::kLong))
                               : x_all.index_select(0, torch::tensor(split.train, torch::kLong));
  MlpParams norm;
  int64_t row_dim = x_all.dim() == 3 ? 1 : 0;
  norm.mean = x_tr.mean(row_dim);
  auto sd = x_tr.std(row_dim, /*unbiased=*/false);
  norm.std = torch::where(sd > 1e-6, sd, torch::ones_like(sd));
  if (options.kind == RouterKind::kBinaryMlp && x_all.dim() == 2) {
    norm.mean = norm.mean.unsqueeze(0);
    norm.std = norm.std.unsqueeze(0);
  }
  auto x_train = standardize(norm, mlp_input(f_train, options.kind));
  auto x_val = standardize(norm, mlp_input(f_val, options.kind));

  const int64_t total = static_cast<int64_t>(g.labels.size() * g.hidden.size() * g.weight_decay.size());
  int64_t done = 0;
  std::shared_ptr<MlpRouter> best;
  double best_score = -1;
  for (auto labels : g.labels) {
    auto y_train = labels_for(train.div_cov, labels);
    auto y_val = labels_for(val.div_cov, labels);
    for (auto hidden : g.hidden) {
      for (auto wd : g.weight_decay) {
        auto fit = fit_mlp(options.kind, x_train, y_train, x_val, y_val, hidden, wd, g, options.seed);
        fit.params.mean = norm.mean;
        fit.params.std = norm.std;
        RouterConfig cc = c;
        cc.hidden = hidden;
        cc.weight_decay = wd;
        cc.labels = labels;
        cc.epochs = fit.epochs;
        auto r = std::make_shared<MlpRouter>(cc, fit.params);
        double score = mean_top1_div_cov(val, r->scores(f_val));
        r->mutable_config().val_div_cov = score;
        if (score > best_score) {  // ties keep the earlier grid point
          best_score = score;
          best = r;
        }
        ++done;
        if (const auto& progress = progress_callback(options);
            progress && !progress(done, total,
                              fmt::format("{} labels={} hidden={} wd={}", router_kind_name(options.kind),
                                          label_type_name(labels), hidden, wd)))
          fail<Cancelled>("router training cancelled");
      }
    }
  }
  return best;
}

}  // namespace breadth
