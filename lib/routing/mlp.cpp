// Two-layer MLP routers (M-way and one binary classifier per model) and their training loop.
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth::routing {

void check_features(const RouterConfig& c, const Features& f) {
  BREADTH_CHECK_ARG(f.kind == c.feature_kind, "router was trained on {} features, got {} ones",
                    feature_kind_name(c.feature_kind), feature_kind_name(f.kind));
  BREADTH_CHECK_ARG(!f.mats.empty(), "no feature matrix given");
  auto dims = f.dims();
  BREADTH_CHECK_ARG(dims == c.feature_dims,
                    "router expects feature dims [{}], got [{}] (wrong encoder or model?)",
                    fmt::join(c.feature_dims, ", "), fmt::join(dims, ", "));
  for (const auto& m : f.mats)
    BREADTH_CHECK_ARG(m.dim() == 2 && m.size(0) == f.mats[0].size(0),
                      "feature matrices must be 2-D with the same number of rows");
}

torch::Tensor mlp_input(const Features& f, RouterKind kind) {
  if (f.kind == FeatureKind::kAgnostic) return f.mats[0].to(torch::kFloat32).contiguous();
  if (kind == RouterKind::kMwayMlp) {
    std::vector<torch::Tensor> b;
    for (const auto& m : f.mats) b.push_back(m.to(torch::kFloat32));
    return torch::cat(b, 1).contiguous();
  }
  int64_t dmax = 0;
  for (const auto& m : f.mats) dmax = std::max(dmax, m.size(1));
  auto x = torch::zeros({static_cast<int64_t>(f.mats.size()), f.rows(), dmax}, torch::kFloat32);
  for (size_t i = 0; i < f.mats.size(); ++i)
    x[static_cast<int64_t>(i)].narrow(1, 0, f.mats[i].size(1)).copy_(f.mats[i].to(torch::kFloat32));
  return x;
}

torch::Tensor standardize(const MlpParams& p, const torch::Tensor& x) {
  if (x.dim() == 3) return (x - p.mean.unsqueeze(1)) / p.std.unsqueeze(1);
  return (x - p.mean.reshape({-1, x.size(1)})[0]) / p.std.reshape({-1, x.size(1)})[0];
}

torch::Tensor mlp_forward(const MlpParams& p, RouterKind kind, const torch::Tensor& x) {
  if (kind == RouterKind::kMwayMlp)
    return torch::relu(torch::matmul(x, p.w1) + p.b1).matmul(p.w2) + p.b2;
  const int64_t M = p.w1.size(0), D = p.w1.size(1), H = p.w1.size(2);
  torch::Tensor h;  // [M, N, H]
  if (x.dim() == 2) {
    // One input for all M classifiers: a single [N, D] x [D, M*H] product.
    h = torch::matmul(x, p.w1.permute({1, 0, 2}).reshape({D, M * H})).reshape({x.size(0), M, H});
    h = torch::relu(h.permute({1, 0, 2}) + p.b1.unsqueeze(1));
  } else {
    h = torch::relu(torch::bmm(x, p.w1) + p.b1.unsqueeze(1));
  }
  return ((h * p.w2.unsqueeze(1)).sum(-1) + p.b2.unsqueeze(1)).t();  // [N, M]
}

MlpRouter::MlpRouter(RouterConfig config, MlpParams params) : Router(std::move(config)), p_(std::move(params)) {
  const int64_t M = static_cast<int64_t>(config_.pool.size());
  bool ok;
  if (config_.kind == RouterKind::kMwayMlp) {
    ok = p_.w1.dim() == 2 && p_.b1.dim() == 1 && p_.w2.dim() == 2 && p_.b2.dim() == 1 &&
         p_.w2.size(1) == M && p_.b2.size(0) == M && p_.w1.size(1) == p_.b1.size(0) &&
         p_.w2.size(0) == p_.w1.size(1) && p_.mean.dim() == 1 && p_.mean.size(0) == p_.w1.size(0) &&
         p_.std.sizes() == p_.mean.sizes();
  } else {
    ok = p_.w1.dim() == 3 && p_.w1.size(0) == M && p_.b1.dim() == 2 && p_.b1.size(0) == M &&
         p_.b1.size(1) == p_.w1.size(2) && p_.w2.sizes() == p_.b1.sizes() && p_.b2.dim() == 1 &&
         p_.b2.size(0) == M && p_.mean.dim() == 2 && p_.mean.size(1) == p_.w1.size(1) &&
         (p_.mean.size(0) == M || p_.mean.size(0) == 1) && p_.std.sizes() == p_.mean.sizes();
  }
  BREADTH_CHECK_ARG(ok, "{} router: weight shapes do not fit a pool of {} models",
                    router_kind_name(config_.kind), M);
  int64_t d_in = config_.kind == RouterKind::kMwayMlp ? p_.w1.size(0) : p_.w1.size(1);
  int64_t want = 0;
  for (auto d : config_.feature_dims)
    want = config_.kind == RouterKind::kMwayMlp ? want + d : std::max(want, d);
  BREADTH_CHECK_ARG(d_in == want, "{} router: weights take {}-dim input, features are [{}]",
                    router_kind_name(config_.kind), d_in, fmt::join(config_.feature_dims, ", "));
}

torch::Tensor MlpRouter::scores(const Features& f) const {
  check_features(config_, f);
  torch::NoGradGuard ng;
  auto logits = mlp_forward(p_, config_.kind, standardize(p_, mlp_input(f, config_.kind)));
  // Scores as probabilities: softmax over the pool (M-way) or each classifier's sigmoid (binary).
  auto s = config_.kind == RouterKind::kMwayMlp ? torch::softmax(logits, 1) : torch::sigmoid(logits);
  return s.to(torch::kFloat64);
}

std::vector<std::pair<std::string, torch::Tensor>> MlpRouter::state() const {
  return {{"w1", p_.w1}, {"b1", p_.b1}, {"w2", p_.w2}, {"b2", p_.b2}, {"mean", p_.mean}, {"std", p_.std}};
}

namespace {

struct MlpNet : torch::nn::Module {
  MlpParams p;
  MlpNet(RouterKind kind, int64_t d, int64_t m, int64_t h, at::Generator& gen) {
    // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
    auto u = [&](std::vector<int64_t> shape, int64_t fan_in) {
      double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
      return (torch::rand(shape, gen, torch::kFloat32) * 2 - 1) * b;
    };
    if (kind == RouterKind::kMwayMlp) {
      p.w1 = register_parameter("w1", u({d, h}, d));
      p.b1 = register_parameter("b1", u({h}, d));
      p.w2 = register_parameter("w2", u({h, m}, h));
      p.b2 = register_parameter("b2", u({m}, h));
    } else {
      p.w1 = register_parameter("w1", u({m, d, h}, d));
      p.b1 = register_parameter("b1", u({m, h}, d));
      p.w2 = register_parameter("w2", u({m, h}, h));
      p.b2 = register_parameter("b2", u({m}, h));
    }
  }
};

torch::Tensor loss_of(RouterKind kind, const torch::Tensor& logits, const torch::Tensor& y) {
  if (kind == RouterKind::kMwayMlp) {
    auto t = y / y.sum(1, true).clamp_min(1e-12);
    return -(t * torch::log_softmax(logits, 1)).sum(1).mean();
  }
  return torch::binary_cross_entropy_with_logits(logits, y);
}

torch::Tensor rows_of(const torch::Tensor& x, const torch::Tensor& idx) {
  return x.dim() == 3 ? x.index_select(1, idx) : x.index_select(0, idx);
}

}  // namespace

MlpFit fit_mlp(RouterKind kind, const torch::Tensor& x_train, const torch::Tensor& y_train,
               const torch::Tensor& x_val, const torch::Tensor& y_val, int64_t hidden,
               double weight_decay, const MlpGrid& grid, uint64_t seed) {
  BREADTH_CHECK_ARG(hidden > 0 && grid.batch_size > 0 && grid.max_epochs > 0 && grid.learning_rate > 0 &&
                        weight_decay >= 0,
                    "MLP grid: hidden={}, batch_size={}, max_epochs={}, learning_rate={}, "
                    "weight_decay={} must be positive (weight decay >= 0)",
                    hidden, grid.batch_size, grid.max_epochs, grid.learning_rate, weight_decay);
  const int64_t M = y_train.size(1);
  const int64_t n = y_train.size(0);
  const int64_t d = x_train.size(x_train.dim() - 1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  MlpNet net(kind, d, M, hidden, gen);
  torch::optim::Adam opt(net.parameters(),
                         torch::optim::AdamOptions(grid.learning_rate).weight_decay(weight_decay));
  const bool have_val = y_val.defined() && y_val.size(0) > 0;
  auto eval_loss = [&]() {
    torch::NoGradGuard ng;
    return have_val ? loss_of(kind, mlp_forward(net.p, kind, x_val), y_val).item<double>()
                    : loss_of(kind, mlp_forward(net.p, kind, x_train), y_train).item<double>();
  };
  MlpFit best;
  best.val_loss = std::numeric_limits<double>::infinity();
  int64_t since_best = 0;
  for (int64_t epoch = 1; epoch <= grid.max_epochs; ++epoch) {
    auto perm = torch::randperm(n, gen, torch::kLong);
    for (int64_t s = 0; s < n; s += grid.batch_size) {
      auto idx = perm.narrow(0, s, std::min(grid.batch_size, n - s));
      auto loss = loss_of(kind, mlp_forward(net.p, kind, rows_of(x_train, idx)), y_train.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    double vl = eval_loss();
    if (!std::isfinite(vl)) fail<NumericError>("MLP router training diverged (loss {})", vl);
    if (vl < best.val_loss - 1e-9) {
      best.val_loss = vl;
      best.epochs = epoch;
      best.params = {net.p.w1.detach().clone(), net.p.b1.detach().clone(), net.p.w2.detach().clone(),
                     net.p.b2.detach().clone(), {}, {}};
      since_best = 0;
    } else if (++since_best >= grid.patience) {
      break;
    }
  }
  return best;
}

}  // namespace breadth::routing
