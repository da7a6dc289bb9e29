// KNN on hand-made data: exact neighbours, scores and tie-breaking.
#include <catch2/catch.hpp>

#include "breadth/error.hpp"

#include "routing/internal.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;
using namespace breadth::routing;

namespace {
torch::Tensor mat(std::vector<std::vector<double>> rows) {
  auto t = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, torch::kFloat64);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = rows[i][j];
  return t;
}
std::vector<int64_t> row_of(const torch::Tensor& t, int64_t r) {
  std::vector<int64_t> v;
  for (int64_t j = 0; j < t.size(1); ++j) v.push_back(t[r][j].item<int64_t>());
  return v;
}
}  // namespace

TEST_CASE("KNN finds the cosine-nearest training rows", "[routing][knn]") {
  // t0=(1,0) t1=(0,1) t2=(1,1) t3=(-1,0) t4=(2,2) (t4 has the same direction as t2)
  auto train = mat({{1, 0}, {0, 1}, {1, 1}, {-1, 0}, {2, 2}});
  auto dc = mat({{0.1, 0.5}, {0.4, 0.2}, {0.3, 0.3}, {0.9, 0.0}, {0.7, 0.1}});
  // (2, 0.1): cos = 0.9988 (t0), 0.7415 (t2), 0.7415 (t4), 0.0499 (t1), -0.9988 (t3)
  auto q = mat({{2, 0.1}});
  CHECK(row_of(knn_neighbours(train, q, 5), 0) == std::vector<int64_t>{0, 2, 4, 1, 3});
  auto s1 = knn_scores(train, dc, q, 1);
  CHECK(s1[0][0].item<double>() == Approx(0.1));
  CHECK(s1[0][1].item<double>() == Approx(0.5));
  // K=3: mean of t0, t2, t4 = ((0.1+0.3+0.7)/3, (0.5+0.3+0.1)/3)
  auto s3 = knn_scores(train, dc, q, 3);
  CHECK(s3[0][0].item<double>() == Approx(1.1 / 3));
  CHECK(s3[0][1].item<double>() == Approx(0.9 / 3));
  // (3, 3): t2 and t4 tie at cosine 1; the lower training row comes first
  CHECK(row_of(knn_neighbours(train, mat({{3, 3}}), 2), 0) == std::vector<int64_t>{2, 4});
  // the zero vector has cosine 0 to everything: neighbours in training order
  CHECK(row_of(knn_neighbours(train, mat({{0, 0}}), 3), 0) == std::vector<int64_t>{0, 1, 2});
  // magnitude does not matter, only direction
  CHECK(row_of(knn_neighbours(train, mat({{-50, 1}}), 1), 0) == std::vector<int64_t>{3});
  CHECK_THROWS_AS(knn_neighbours(train, q, 6), InvalidArgument);
  CHECK_THROWS_AS(knn_neighbours(train, q, 0), InvalidArgument);
  CHECK_THROWS_AS(knn_neighbours(train, mat({{1, 2, 3}}), 1), InvalidArgument);
}

TEST_CASE("KNN router trained through train_router routes like its neighbours", "[routing][knn]") {
  // 4 training queries with distinct directions; val/test reuse the same rows for a hand check.
  auto t = test::table_from({{0.9, 0.1, 0.2}, {0.1, 0.8, 0.3}, {0.2, 0.1, 0.7}, {0.5, 0.6, 0.1}});
  Features f;
  f.kind = FeatureKind::kAgnostic;
  f.mats = {mat({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}}).to(torch::kFloat32)};
  Split s{{0, 1, 2, 3}, {0, 1}, {2, 3}};
  TrainOptions o;
  o.kind = RouterKind::kKnn;
  o.knn_k = 1;
  auto r = train_router(t, f, s, o);
  Features q;
  q.kind = FeatureKind::kAgnostic;
  // (0.1, 0.2, 5) is nearest to t2 -> its best model m2; (3, 2.5, 0) nearest to t3 -> m1
  q.mats = {mat({{0.1, 0.2, 5}, {3, 2.5, 0}}).to(torch::kFloat32)};
  auto ranks = r->rank(q);
  CHECK(ranks[0] == std::vector<int64_t>{2, 0, 1});
  CHECK(ranks[1] == std::vector<int64_t>{1, 0, 2});
  CHECK(r->config().val_div_cov == Approx((0.9 + 0.8) / 2));
  auto d = route(*r, q, 1, 2, 50);
  CHECK(d.models == std::vector<std::string>{"m1", "m0"});
  CHECK(d.budgets == std::vector<int64_t>{25, 25});
  CHECK(d.scores[0] == Approx(0.6));
  // features of the wrong width are refused
  Features bad;
  bad.kind = FeatureKind::kAgnostic;
  bad.mats = {torch::zeros({1, 4})};
  CHECK_THROWS_AS(r->scores(bad), InvalidArgument);
  Features spec;
  spec.kind = FeatureKind::kSpecific;
  spec.mats = {torch::zeros({1, 3}), torch::zeros({1, 3}), torch::zeros({1, 3})};
  CHECK_THROWS_WITH(r->scores(spec), Catch::Contains("agnostic"));
}

TEST_CASE("model-specific KNN averages the per-model cosines", "[routing][knn]") {
  Features f;
  f.kind = FeatureKind::kSpecific;
  // block A (2-d) and block B (3-d, large scale): each block is normalized before concatenation
  f.mats = {mat({{1, 0}, {0, 1}}), mat({{100, 0, 0}, {0, 0, 300}})};
  Features q;
  q.kind = FeatureKind::kSpecific;
  q.mats = {mat({{1, 1}}), mat({{0, 0, 1}})};
  auto tr = knn_matrix(f), qq = knn_matrix(q);
  auto sims = torch::matmul(unit_rows(qq), unit_rows(tr).t());
  // row 0: (cos_A, cos_B) = (0.7071, 0) -> 0.3536; row 1: (0.7071, 1) -> 0.8536
  CHECK(sims[0][0].item<double>() == Approx(std::sqrt(0.5) / 2));
  CHECK(sims[0][1].item<double>() == Approx((std::sqrt(0.5) + 1) / 2));
}

TEST_CASE("labels: oracle argmax, one-hot and soft", "[routing][labels]") {
  auto dc = mat({{0.2, 0.4, 0.4}, {0.0, 0.0, 0.0}, {0.5, 0.25, 0.1}});
  CHECK(argmax_rows(dc) == std::vector<int64_t>{1, 0, 0});  // ties to the lower index
  auto oh = one_hot_labels(dc);
  CHECK(oh[0][1].item<float>() == 1.0f);
  CHECK(oh[0][2].item<float>() == 0.0f);
  CHECK(oh.sum().item<float>() == 3.0f);
  auto s = soft_labels(dc);
  CHECK(s[0][0].item<float>() == Approx(0.5));
  CHECK(s[0][2].item<float>() == Approx(1.0));
  CHECK(s[1][1].item<float>() == Approx(1.0));  // all zero: every model ties with the best
  CHECK(s[2][2].item<float>() == Approx(0.2));
  auto r = rank_rows(mat({{0.1, 0.3, 0.3, 0.2}}));
  CHECK(r[0] == std::vector<int64_t>{1, 2, 3, 0});
}
