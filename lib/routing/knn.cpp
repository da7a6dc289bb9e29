// KNN router: scores are the mean div-cov rows of the K most cosine-similar training queries.
#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth::routing {

torch::Tensor unit_rows(const torch::Tensor& x) {
  auto d = x.to(torch::kFloat64);
  auto n = d.norm(2, {1}, /*keepdim=*/true);
  return torch::where(n > 0, d / n.clamp_min(1e-300), torch::zeros_like(d));
}

torch::Tensor knn_matrix(const Features& f) {
  BREADTH_CHECK_ARG(!f.mats.empty(), "KNN: no features");
  if (f.kind == FeatureKind::kAgnostic) return f.mats[0].to(torch::kFloat64);
  std::vector<torch::Tensor> blocks;
  for (const auto& m : f.mats) blocks.push_back(unit_rows(m));
  return torch::cat(blocks, 1);
}

torch::Tensor knn_neighbours(const torch::Tensor& train, const torch::Tensor& queries, int64_t k) {
  BREADTH_CHECK_ARG(k >= 1 && k <= train.size(0), "KNN: k = {} needs 1..{} (training rows)", k,
                    train.size(0));
  BREADTH_CHECK_ARG(train.size(1) == queries.size(1), "KNN: feature dims differ ({} vs {})",
                    train.size(1), queries.size(1));
  auto sims = torch::matmul(unit_rows(queries), unit_rows(train).t());  // [N, Ntr]
  auto sorted = torch::sort(sims, /*stable=*/true, /*dim=*/1, /*descending=*/true);
  return std::get<1>(sorted).narrow(1, 0, k).contiguous();
}

torch::Tensor knn_scores(const torch::Tensor& train, const torch::Tensor& train_div_cov,
                         const torch::Tensor& queries, int64_t k) {
  auto nb = knn_neighbours(train, queries, k);                               // [N, k]
  auto rows = train_div_cov.to(torch::kFloat64).index_select(0, nb.reshape(-1));  // [N*k, M]
  return rows.reshape({nb.size(0), k, train_div_cov.size(1)}).mean(1);
}

KnnRouter::KnnRouter(RouterConfig config, torch::Tensor train_features, torch::Tensor train_div_cov)
    : Router(std::move(config)),
      train_(train_features.to(torch::kFloat64).contiguous()),
      div_cov_(train_div_cov.to(torch::kFloat64).contiguous()) {
  BREADTH_CHECK_ARG(train_.dim() == 2 && div_cov_.dim() == 2 && train_.size(0) == div_cov_.size(0) &&
                        div_cov_.size(1) == static_cast<int64_t>(config_.pool.size()),
                    "KNN router: {} training rows of features, {} of div-cov for a pool of {}",
                    train_.size(0), div_cov_.size(0), config_.pool.size());
  BREADTH_CHECK_ARG(config_.knn_k >= 1 && config_.knn_k <= train_.size(0),
                    "KNN router: k = {} needs 1..{} (training rows)", config_.knn_k, train_.size(0));
}

torch::Tensor KnnRouter::scores(const Features& f) const {
  check_features(config_, f);
  return knn_scores(train_, div_cov_, knn_matrix(f), config_.knn_k);
}

std::vector<std::pair<std::string, torch::Tensor>> KnnRouter::state() const {
  return {{"train_features", train_}, {"train_div_cov", div_cov_}};
}

}  // namespace breadth::routing
