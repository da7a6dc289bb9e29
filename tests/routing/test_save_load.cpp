// Saving and loading routers: identical rankings, wrong pools refused, corrupt files rejected.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;

namespace {
std::string fresh_dir(const std::string& name) { return test::scratch_dir(name) + "/router"; }
}  // namespace

TEST_CASE("save/load round trip gives identical rankings", "[routing][io]") {
  auto s = test::make_synthetic(120, 4, 6, 21);
  auto split = split_queries(120, 4);
  MlpGrid g;
  g.hidden = {16};
  g.weight_decay = {1e-4};
  g.labels = {LabelType::kOneHot};
  g.max_epochs = 25;
  struct Case {
    RouterKind kind;
    const Features* f;
    const char* name;
  };
  for (auto c : {Case{RouterKind::kKnn, &s.agnostic, "knn-agn"}, Case{RouterKind::kKnn, &s.specific, "knn-spec"},
                 Case{RouterKind::kMwayMlp, &s.agnostic, "mway-agn"},
                 Case{RouterKind::kMwayMlp, &s.specific, "mway-spec"},
                 Case{RouterKind::kBinaryMlp, &s.agnostic, "binary-agn"},
                 Case{RouterKind::kBinaryMlp, &s.specific, "binary-spec"}}) {
    SECTION(c.name) {
      TrainOptions o;
      o.kind = c.kind;
      o.knn_k = 5;
      o.grid = g;
      o.seed = 3;
      auto r = train_router(s.table, *c.f, split, o);
      auto dir = fresh_dir(c.name);
      r->save(dir);
      auto back = Router::load(dir, s.table.models);
      CHECK(back->config().kind == c.kind);
      CHECK(back->config().feature_kind == c.f->kind);
      CHECK(back->pool() == s.table.models);
      CHECK(back->config().feature_dims == c.f->dims());
      CHECK(back->config().train_wins == r->config().train_wins);
      CHECK(back->config().hidden == r->config().hidden);
      CHECK(back->config().val_div_cov == r->config().val_div_cov);
      CHECK(back->rank(*c.f) == r->rank(*c.f));
      CHECK(torch::allclose(back->scores(*c.f), r->scores(*c.f), 0, 0));
      // loading without a pool check works too
      CHECK(Router::load(dir)->rank(*c.f) == r->rank(*c.f));
    }
  }
}

TEST_CASE("a router is refused for another pool, naming both", "[routing][io]") {
  auto s = test::make_synthetic(30, 3, 4, 2);
  TrainOptions o;
  o.kind = RouterKind::kKnn;
  o.knn_k = 1;
  auto r = train_router(s.table, s.agnostic, split_queries(30, 1), o);
  auto dir = fresh_dir("pool");
  r->save(dir);
  std::vector<std::string> swapped = {"model-1", "model-0", "model-2"};
  CHECK_THROWS_AS(Router::load(dir, swapped), InvalidArgument);
  CHECK_THROWS_WITH(Router::load(dir, swapped),
                    Catch::Contains("model-0, model-1, model-2") && Catch::Contains("model-1, model-0, model-2"));
  CHECK_THROWS_AS(Router::load(dir, {"model-0", "model-1"}), InvalidArgument);
}

TEST_CASE("corrupt router folders give clear errors", "[routing][io]") {
  auto s = test::make_synthetic(30, 3, 4, 2);
  TrainOptions o;
  o.kind = RouterKind::kMwayMlp;
  o.grid.hidden = {8};
  o.grid.weight_decay = {0};
  o.grid.labels = {LabelType::kSoft};
  o.grid.max_epochs = 3;
  auto r = train_router(s.table, s.agnostic, split_queries(30, 1), o);
  auto dir = fresh_dir("corrupt");
  r->save(dir);
  CHECK_THROWS_AS(Router::load(fresh_dir("nothing-here")), IoError);
  auto cfg = dir + "/router.json";
  nlohmann::json j;
  std::ifstream(cfg) >> j;
  auto write = [&](const nlohmann::json& x) { std::ofstream(cfg) << x.dump(); };
  {
    auto x = j;
    x["kind"] = "forest";
    write(x);
    CHECK_THROWS_AS(Router::load(dir), FormatError);
  }
  {
    auto x = j;
    x["feature_dims"] = {5};  // weights take 4 inputs
    write(x);
    CHECK_THROWS_AS(Router::load(dir), FormatError);
  }
  {
    auto x = j;
    x.erase("pool");
    write(x);
    CHECK_THROWS_WITH(Router::load(dir), Catch::Contains("pool"));
  }
  {
    auto x = j;
    x["pool"] = {"a", "b"};  // 2 models, weights for 3
    x["train_wins"] = {1, 1};
    x["train_mean_div_cov"] = {0.1, 0.2};
    write(x);
    CHECK_THROWS_AS(Router::load(dir), FormatError);
  }
  std::ofstream(cfg) << "{ not json";
  CHECK_THROWS_AS(Router::load(dir), FormatError);
  write(j);
  std::ofstream(dir + "/weights.safetensors", std::ios::trunc) << "garbage";
  CHECK_THROWS_AS(Router::load(dir), FormatError);
}
