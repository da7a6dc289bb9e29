// Trained routers on synthetic problems where the best model depends on the query.
#include <catch2/catch.hpp>

#include "breadth/error.hpp"
#include "routing/internal.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;

namespace {
MlpGrid small_grid(LabelType labels) {
  MlpGrid g;
  g.hidden = {32};
  g.weight_decay = {0.0};
  g.labels = {labels};
  g.max_epochs = 150;
  g.patience = 15;
  return g;
}
}  // namespace

TEST_CASE("MLP routers beat top-overall on a synthetic table", "[routing][train]") {
  auto s = test::make_synthetic(600, 6, 8, 11);
  auto split = split_queries(600, 3);
  auto train = s.table.select(split.train), test = s.table.select(split.test);
  const int64_t nt = static_cast<int64_t>(split.test.size());
  double top = evaluate_picks(test, baselines::top_overall(train, nt)).mean.div_cov;
  double oracle = evaluate_picks(test, baselines::oracle_top1(test)).mean.div_cov;
  REQUIRE(baselines::top_overall(train, 1)[0].models[0] == 0);  // the biased model wins on average
  REQUIRE(oracle - top > 0.08);                                  // room to route

  struct Case {
    RouterKind kind;
    LabelType labels;
    const Features* f;
    const char* name;
  };
  for (auto c : {Case{RouterKind::kBinaryMlp, LabelType::kOneHot, &s.agnostic, "binary agn"},
                 Case{RouterKind::kMwayMlp, LabelType::kSoft, &s.agnostic, "mway agn"},
                 Case{RouterKind::kBinaryMlp, LabelType::kOneHot, &s.specific, "binary spec"},
                 Case{RouterKind::kMwayMlp, LabelType::kSoft, &s.specific, "mway spec"}}) {
    SECTION(c.name) {
      TrainOptions o;
      o.kind = c.kind;
      o.grid = small_grid(c.labels);
      o.seed = 1;
      auto r = train_router(s.table, *c.f, split, o);
      double cov = test::top1_cov(*r, s.table, *c.f, split.test);
      INFO(c.name << ": router " << cov << " top overall " << top << " oracle " << oracle);
      CHECK(cov > top + 0.05);
      CHECK(cov <= oracle + 1e-12);
      CHECK(r->config().epochs > 0);
      CHECK(r->config().val_div_cov > 0);
    }
  }
  SECTION("KNN (K=5) also beats top-overall here") {
    TrainOptions o;
    o.kind = RouterKind::kKnn;
    o.knn_k = 5;
    auto r = train_router(s.table, s.agnostic, split, o);
    CHECK(test::top1_cov(*r, s.table, s.agnostic, split.test) > top + 0.03);
  }
}

TEST_CASE("grid search picks the point with the best validation div-cov", "[routing][train]") {
  auto s = test::make_synthetic(300, 4, 6, 5);
  auto split = split_queries(300, 1);
  TrainOptions o;
  o.kind = RouterKind::kMwayMlp;
  o.grid = small_grid(LabelType::kSoft);
  o.grid.hidden = {4, 32};
  o.grid.labels = {LabelType::kSoft};
  o.grid.weight_decay = {0.0, 1e-2};
  o.grid.max_epochs = 40;
  std::vector<double> seen;
  std::vector<std::string> labels;
  o.on_progress = [&](int64_t done, int64_t total, const std::string& l) {
    CHECK(total == 4);
    labels.push_back(l);
    return true;
  };
  auto best = train_router(s.table, s.agnostic, split, o);
  REQUIRE(labels.size() == 4);
  // retrain each grid point alone: the selected one has the highest validation score
  double best_single = -1;
  for (auto lt : o.grid.labels)
    for (auto h : o.grid.hidden) {
      TrainOptions one = o;
      one.on_progress = {};
      one.grid.labels = {lt};
      one.grid.hidden = {h};
      best_single = std::max(best_single, train_router(s.table, s.agnostic, split, one)->config().val_div_cov);
    }
  CHECK(best->config().val_div_cov == Approx(best_single));
  // the same seed reproduces the same router
  TrainOptions again = o;
  again.on_progress = {};
  auto r2 = train_router(s.table, s.agnostic, split, again);
  CHECK(torch::allclose(best->scores(s.agnostic), r2->scores(s.agnostic)));
  o.on_progress = [](int64_t, int64_t, const std::string&) { return false; };
  CHECK_THROWS_AS(train_router(s.table, s.agnostic, split, o), Cancelled);
}

TEST_CASE("train_router validates its inputs", "[routing][train]") {
  auto s = test::make_synthetic(20, 3, 4, 2);
  auto split = split_queries(20, 1);
  TrainOptions o;
  o.kind = RouterKind::kKnn;
  o.knn_k = 1;
  CHECK_THROWS_AS(train_router(s.table, s.agnostic.select({0, 1}), split, o), InvalidArgument);
  Features wrong = s.specific;
  wrong.mats.pop_back();
  CHECK_THROWS_AS(train_router(s.table, wrong, split, o), InvalidArgument);
  Split bad{{0, 25}, {}, {}};
  CHECK_THROWS_AS(train_router(s.table, s.agnostic, bad, o), InvalidArgument);
  o.knn_k = 100;
  CHECK_THROWS_AS(train_router(s.table, s.agnostic, split, o), InvalidArgument);
  o.kind = RouterKind::kMwayMlp;
  o.grid.hidden = {};
  CHECK_THROWS_AS(train_router(s.table, s.agnostic, split, o), InvalidArgument);
}

TEST_CASE("binary MLP for model i sees only model i's features", "[routing][train]") {
  auto s = test::make_synthetic(80, 3, 4, 9);
  auto split = split_queries(80, 2);
  TrainOptions o;
  o.kind = RouterKind::kBinaryMlp;
  o.grid = small_grid(LabelType::kOneHot);
  o.grid.max_epochs = 20;
  auto r = train_router(s.table, s.specific, split, o);
  auto base = r->scores(s.specific);
  Features changed = s.specific;
  changed.mats[1] = changed.mats[1] * 3 + 1;  // perturb model 1's features only
  auto after = r->scores(changed);
  CHECK(torch::equal(base.select(1, 0), after.select(1, 0)));
  CHECK(torch::equal(base.select(1, 2), after.select(1, 2)));
  CHECK_FALSE(torch::equal(base.select(1, 1), after.select(1, 1)));
}

TEST_CASE("the trainer's hand-written gradients match autograd", "[routing][train]") {
  torch::manual_seed(4);
  const int64_t N = 7, M = 3, D = 5, H = 4;
  auto x2 = torch::randn({N, D});
  auto x3 = torch::randn({M, N, D});
  auto onehot = routing::one_hot_labels(torch::rand({N, M}, torch::kFloat64));
  auto soft = routing::soft_labels(torch::rand({N, M}, torch::kFloat64));
  struct Case {
    RouterKind kind;
    torch::Tensor x, y;
    const char* name;
  };
  for (const auto& c : {Case{RouterKind::kMwayMlp, x2, soft, "mway soft"},
                        Case{RouterKind::kMwayMlp, x2, onehot, "mway one-hot"},
                        Case{RouterKind::kBinaryMlp, x2, onehot, "binary shared input"},
                        Case{RouterKind::kBinaryMlp, x3, soft, "binary per-model input"}}) {
    INFO(c.name);
    routing::MlpParams p;
    if (c.kind == RouterKind::kMwayMlp)
      p = {torch::randn({D, H}), torch::randn({H}), torch::randn({H, M}), torch::randn({M}), {}, {}};
    else
      p = {torch::randn({M, D, H}), torch::randn({M, H}), torch::randn({M, H}), torch::randn({M}), {}, {}};
    std::vector<torch::Tensor> leaves = {p.w1, p.b1, p.w2, p.b2};
    for (auto& t : leaves) t.requires_grad_(true);
    routing::MlpParams q{leaves[0], leaves[1], leaves[2], leaves[3], {}, {}};
    auto logits = routing::mlp_forward(q, c.kind, c.x);
    auto t = c.y / c.y.sum(1, true).clamp_min(1e-12);
    auto loss = c.kind == RouterKind::kMwayMlp ? -(t * torch::log_softmax(logits, 1)).sum(1).mean()
                                               : torch::binary_cross_entropy_with_logits(logits, c.y);
    loss.backward();
    routing::MlpParams plain{p.w1.detach(), p.b1.detach(), p.w2.detach(), p.b2.detach(), {}, {}};
    auto g = routing::mlp_loss_gradient(c.kind, plain, c.x, c.y);
    CHECK(g.loss == Approx(loss.item<double>()).epsilon(1e-5));
    CHECK(torch::allclose(g.grad.w1, leaves[0].grad(), 1e-4, 1e-6));
    CHECK(torch::allclose(g.grad.b1, leaves[1].grad(), 1e-4, 1e-6));
    CHECK(torch::allclose(g.grad.w2, leaves[2].grad(), 1e-4, 1e-6));
    CHECK(torch::allclose(g.grad.b2, leaves[3].grad(), 1e-4, 1e-6));
  }
}

TEST_CASE("full-batch training (batch >= rows) also learns the synthetic router", "[routing][train]") {
  auto s = test::make_synthetic(300, 4, 6, 13);
  auto split = split_queries(300, 2);
  auto train = s.table.select(split.train), test = s.table.select(split.test);
  double top = evaluate_picks(test, baselines::top_overall(train, static_cast<int64_t>(split.test.size())))
                   .mean.div_cov;
  TrainOptions o;
  o.kind = RouterKind::kMwayMlp;
  o.grid = small_grid(LabelType::kSoft);
  o.grid.batch_size = 10000;
  o.grid.learning_rate = 1e-2;
  o.grid.max_epochs = 300;
  auto r = train_router(s.table, s.agnostic, split, o);
  CHECK(r->config().epochs > 1);
  CHECK(test::top1_cov(*r, s.table, s.agnostic, split.test) > top + 0.03);
}
