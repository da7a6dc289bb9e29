// Two-layer MLP routers (M-way and one binary classifier per model) and their training loop.
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/ranges.h>

#include <array>
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

// ---------------------------------------------------------------------------------------- training
//
// Training runs without autograd: the gradients of these two-layer MLPs are a handful of matrix
// products, written out below (checked against autograd in tests/routing/test_train.cpp), and the
// four parameter tensors live in one flat buffer so that an Adam step is one fused loop over it. On
// the router's small matrices this removes most of the per-step cost of autograd and of the op-by-op
// optimizer (the 18 x 256 x 256 binary MLPs train ~4x faster, the M-way MLP ~10x).
//
// Layouts while training (converted to MlpParams' layout for snapshots):
//   M-way:                     w1 [D, H], b1 [H], w2 [H, M], b2 [M] (as stored)
//   binary, shared input:      w1 [D, M*H] (model-major columns), b1 [M*H], w2 [M, H], b2 [M]
//   binary, per-model input:   w1 [M, D, H], b1 [M, H], w2 [M, H], b2 [M] (as stored)

struct Layout {
  RouterKind kind = RouterKind::kBinaryMlp;
  bool shared = true;  ///< binary: one [N, D] input for every classifier
  int64_t M = 0, D = 0, H = 0;

  std::vector<std::vector<int64_t>> shapes() const {
    if (kind == RouterKind::kMwayMlp) return {{D, H}, {H}, {H, M}, {M}};
    if (shared) return {{D, M * H}, {M * H}, {M, H}, {M}};
    return {{M, D, H}, {M, H}, {M, H}, {M}};
  }
};

/// Four views into one flat float32 buffer.
struct Flat {
  torch::Tensor buf;
  std::array<torch::Tensor, 4> t;

  explicit Flat(const Layout& L) {
    auto shapes = L.shapes();
    int64_t n = 0;
    for (const auto& s : shapes) n += c10::multiply_integers(s);
    buf = torch::zeros({n}, torch::kFloat32);
    int64_t off = 0;
    for (size_t i = 0; i < 4; ++i) {
      int64_t k = c10::multiply_integers(shapes[i]);
      t[i] = buf.narrow(0, off, k).view(shapes[i]);
      off += k;
    }
  }
};

/// Training layout -> MlpParams (fresh tensors).
MlpParams to_params(const Layout& L, const std::array<torch::Tensor, 4>& t) {
  MlpParams p;
  if (L.kind == RouterKind::kBinaryMlp && L.shared) {
    p.w1 = t[0].view({L.D, L.M, L.H}).permute({1, 0, 2}).contiguous();
    p.b1 = t[1].view({L.M, L.H}).clone();
  } else {
    p.w1 = t[0].clone();
    p.b1 = t[1].clone();
  }
  p.w2 = t[2].clone();
  p.b2 = t[3].clone();
  return p;
}

/// MlpParams -> training layout (copies into `t`).
void from_params(const Layout& L, const MlpParams& p, std::array<torch::Tensor, 4>& t) {
  if (L.kind == RouterKind::kBinaryMlp && L.shared) {
    t[0].view({L.D, L.M, L.H}).copy_(p.w1.permute({1, 0, 2}));
    t[1].copy_(p.b1.reshape({-1}));
  } else {
    t[0].copy_(p.w1);
    t[1].copy_(p.b1);
  }
  t[2].copy_(p.w2);
  t[3].copy_(p.b2);
}

/// Logits [N, M] in the training layout (and, for the gradient, the first layer's pre-activations).
torch::Tensor forward_train(const Layout& L, const std::array<torch::Tensor, 4>& p, const torch::Tensor& x,
                            torch::Tensor* pre_out = nullptr, torch::Tensor* h_out = nullptr) {
  torch::Tensor pre, h, z;
  if (L.kind == RouterKind::kMwayMlp) {
    pre = torch::addmm(p[1], x, p[0]);
    h = torch::relu(pre);
    z = torch::addmm(p[3], h, p[2]);
  } else if (L.shared) {
    const int64_t N = x.size(0);
    pre = torch::addmm(p[1], x, p[0]);  // [N, M*H]
    h = torch::relu(pre);
    z = (h.view({N, L.M, L.H}) * p[2]).sum(-1) + p[3];  // [N, M]
  } else {
    pre = torch::baddbmm(p[1].unsqueeze(1), x, p[0]);  // [M, N, H]
    h = torch::relu(pre);
    z = ((h * p[2].unsqueeze(1)).sum(-1) + p[3].unsqueeze(1)).t();  // [N, M]
  }
  if (pre_out) *pre_out = pre;
  if (h_out) *h_out = h;
  return z;
}

torch::Tensor loss_of(RouterKind kind, const torch::Tensor& logits, const torch::Tensor& y) {
  if (kind == RouterKind::kMwayMlp) {
    auto t = y / y.sum(1, true).clamp_min(1e-12);
    return -(t * torch::log_softmax(logits, 1)).sum(1).mean();
  }
  return torch::binary_cross_entropy_with_logits(logits, y);
}

/// Gradient of the mean loss of (x, y) with respect to `p`, written into `g` (same layout).
void loss_grad(const Layout& L, const std::array<torch::Tensor, 4>& p, const torch::Tensor& x,
               const torch::Tensor& y, std::array<torch::Tensor, 4>& g) {
  torch::Tensor pre, h;
  auto z = forward_train(L, p, x, &pre, &h);
  const int64_t N = z.size(0);
  if (L.kind == RouterKind::kMwayMlp) {
    // d/dz of -(t . log_softmax(z)) = softmax(z) * sum(t) - t, averaged over rows.
    auto t = y / y.sum(1, true).clamp_min(1e-12);
    auto dz = (torch::softmax(z, 1) * t.sum(1, true) - t) / static_cast<double>(N);
    at::sum_out(g[3], dz, {0});
    at::mm_out(g[2], h.t(), dz);
    auto dpre = at::threshold_backward(torch::mm(dz, p[2].t()), pre, 0);
    at::sum_out(g[1], dpre, {0});
    at::mm_out(g[0], x.t(), dpre);
    return;
  }
  // BCE with logits, mean over N*M entries: dz = (sigmoid(z) - y) / (N*M).
  auto dz = (torch::sigmoid(z) - y) / static_cast<double>(N * L.M);  // [N, M]
  if (L.shared) {
    at::sum_out(g[3], dz, {0});
    auto h3 = h.view({N, L.M, L.H});
    auto dz3 = dz.unsqueeze(-1);  // [N, M, 1]
    at::sum_out(g[2], h3 * dz3, {0});
    auto dpre = at::threshold_backward((dz3 * p[2]).view({N, L.M * L.H}), pre, 0);
    at::sum_out(g[1], dpre, {0});
    at::mm_out(g[0], x.t(), dpre);
  } else {
    auto dzt = dz.t().unsqueeze(-1);  // [M, N, 1]
    at::sum_out(g[3], dz, {0});
    at::sum_out(g[2], h * dzt, {1});
    auto dpre = at::threshold_backward(dzt * p[2].unsqueeze(1), pre, 0);  // [M, N, H]
    at::sum_out(g[1], dpre, {1});
    at::bmm_out(g[0], x.transpose(1, 2), dpre);
  }
}

Layout layout_for(RouterKind kind, const torch::Tensor& x, int64_t M, int64_t H) {
  Layout L;
  L.kind = kind;
  L.shared = kind == RouterKind::kMwayMlp || x.dim() == 2;
  L.M = M;
  L.D = x.size(x.dim() - 1);
  L.H = H;
  return L;
}

torch::Tensor rows_of(const torch::Tensor& x, const torch::Tensor& idx) {
  return x.dim() == 3 ? x.index_select(1, idx) : x.index_select(0, idx);
}

}  // namespace

MlpGradient mlp_loss_gradient(RouterKind kind, const MlpParams& params, const torch::Tensor& x,
                              const torch::Tensor& y) {
  torch::NoGradGuard ng;
  const int64_t M = y.size(1);
  const int64_t H = kind == RouterKind::kMwayMlp ? params.w1.size(1) : params.w1.size(2);
  Layout L = layout_for(kind, x, M, H);
  Flat p(L), g(L);
  from_params(L, params, p.t);
  loss_grad(L, p.t, x, y, g.t);
  MlpGradient out;
  out.loss = loss_of(kind, forward_train(L, p.t, x), y).item<double>();
  out.grad = to_params(L, g.t);
  return out;
}

double mlp_loss(RouterKind kind, const MlpParams& params, const torch::Tensor& x, const torch::Tensor& y) {
  return loss_of(kind, mlp_forward(params, kind, x), y).item<double>();
}

MlpFit fit_mlp(RouterKind kind, const torch::Tensor& x_train, const torch::Tensor& y_train,
               const torch::Tensor& x_val, const torch::Tensor& y_val, int64_t hidden,
               double weight_decay, const MlpGrid& grid, uint64_t seed) {
  BREADTH_CHECK_ARG(hidden > 0 && grid.batch_size > 0 && grid.max_epochs > 0 && grid.learning_rate > 0 &&
                        weight_decay >= 0,
                    "MLP grid: hidden={}, batch_size={}, max_epochs={}, learning_rate={}, "
                    "weight_decay={} must be positive (weight decay >= 0)",
                    hidden, grid.batch_size, grid.max_epochs, grid.learning_rate, weight_decay);
  torch::NoGradGuard ng;
  const int64_t M = y_train.size(1);
  const int64_t n = y_train.size(0);
  const int64_t d = x_train.size(x_train.dim() - 1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const Layout L = layout_for(kind, x_train, M, hidden);

  // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, drawn in
  // the order w1, b1, w2, b2 in MlpParams' layout.
  auto u = [&](std::vector<int64_t> shape, int64_t fan_in) {
    double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
    return (torch::rand(shape, gen, torch::kFloat32) * 2 - 1) * b;
  };
  MlpParams init;
  if (kind == RouterKind::kMwayMlp) {
    init = {u({d, hidden}, d), u({hidden}, d), u({hidden, M}, hidden), u({M}, hidden), {}, {}};
  } else {
    init = {u({M, d, hidden}, d), u({M, hidden}, d), u({M, hidden}, hidden), u({M}, hidden), {}, {}};
  }
  Flat p(L), g(L), m1(L), m2(L);
  from_params(L, init, p.t);
  const int64_t P = p.buf.numel();

  auto x_tr = x_train.to(torch::kFloat32).contiguous();
  auto y_tr = y_train.to(torch::kFloat32).contiguous();
  const bool have_val = y_val.defined() && y_val.size(0) > 0;
  auto x_ev = have_val ? x_val.to(torch::kFloat32).contiguous() : x_tr;
  auto y_ev = have_val ? y_val.to(torch::kFloat32).contiguous() : y_tr;

  MlpFit best;
  best.val_loss = std::numeric_limits<double>::infinity();
  int64_t since_best = 0, step = 0;
  const bool full_batch = grid.batch_size >= n;
  for (int64_t epoch = 1; epoch <= grid.max_epochs; ++epoch) {
    auto perm = torch::randperm(n, gen, torch::kLong);
    for (int64_t s = 0; s < n; s += grid.batch_size) {
      if (full_batch) {
        loss_grad(L, p.t, x_tr, y_tr, g.t);
      } else {
        auto idx = perm.narrow(0, s, std::min(grid.batch_size, n - s));
        loss_grad(L, p.t, rows_of(x_tr, idx), y_tr.index_select(0, idx), g.t);
      }
      adam_step(p.buf.data_ptr<float>(), g.buf.data_ptr<float>(), m1.buf.data_ptr<float>(),
                m2.buf.data_ptr<float>(), P, ++step, grid.learning_rate, weight_decay);
    }
    double vl = loss_of(kind, forward_train(L, p.t, x_ev), y_ev).item<double>();
    if (!std::isfinite(vl)) fail<NumericError>("MLP router training diverged (loss {})", vl);
    if (vl < best.val_loss - 1e-9) {
      best.val_loss = vl;
      best.epochs = epoch;
      best.params = to_params(L, p.t);
      since_best = 0;
    } else if (++since_best >= grid.patience) {
      break;
    }
  }
  return best;
}

}  // namespace breadth::routing
