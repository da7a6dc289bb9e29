// Feature sets, the features file and the on-disk feature cache.
#include <catch2/catch.hpp>

#include <fstream>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;

namespace {

std::string fresh_dir(const std::string& name) { return test::scratch_dir(name); }

/// Features = (length of the text, its first byte, a constant), counting what it was asked for.
struct CountingExtractor : FeatureExtractor {
  std::string id;
  int64_t dim = 3;
  std::vector<std::string> seen;
  explicit CountingExtractor(std::string n) : id(std::move(n)) {}
  std::string name() const override { return id; }
  torch::Tensor extract(const std::vector<std::string>& qs) override {
    auto t = torch::zeros({static_cast<int64_t>(qs.size()), dim});
    for (size_t i = 0; i < qs.size(); ++i) {
      seen.push_back(qs[i]);
      t[static_cast<int64_t>(i)][0] = static_cast<float>(qs[i].size());
      t[static_cast<int64_t>(i)][1] = static_cast<float>(qs[i].empty() ? 0 : static_cast<unsigned char>(qs[i][0]));
      t[static_cast<int64_t>(i)][2] = 1.0f;
    }
    return t;
  }
};

}  // namespace

TEST_CASE("feature cache computes each (extractor, query) once and persists", "[routing][features]") {
  auto dir = fresh_dir("cache");
  CountingExtractor ex("encoder/a");
  {
    FeatureCache cache(dir);
    int64_t calls = 0;
    auto f = cache.get(ex, {"ab", "xyz", "ab"}, 1, [&](int64_t, int64_t, const std::string&) { return ++calls, true; });
    REQUIRE(f.sizes() == torch::IntArrayRef({3, 3}));
    CHECK(f[0][0].item<float>() == 2);
    CHECK(f[1][0].item<float>() == 3);
    CHECK(f[2][1].item<float>() == 'a');
    CHECK(ex.seen == std::vector<std::string>{"ab", "xyz"});  // the repeat is computed once
    CHECK(calls == 2);
  }
  {
    FeatureCache cache(dir);  // a new object reads the file
    auto f = cache.get(ex, {"xyz", "new", "ab"});
    CHECK(ex.seen == std::vector<std::string>{"ab", "xyz", "new"});
    CHECK(f[0][0].item<float>() == 3);
    CHECK(f[1][1].item<float>() == 'n');
    CHECK(f[2][0].item<float>() == 2);
  }
  // another extractor name is another key
  CountingExtractor other("encoder/b");
  FeatureCache(dir).get(other, {"ab"});
  CHECK(other.seen == std::vector<std::string>{"ab"});
  CHECK(FeatureCache::key("a", "b") != FeatureCache::key("b", "a"));
  CHECK(FeatureCache::key("ab", "") != FeatureCache::key("a", "b"));
  // an extractor that changes its dimension under the same name is refused
  CountingExtractor wider("encoder/a");
  wider.dim = 4;
  CHECK_THROWS_WITH(FeatureCache(dir).get(wider, {"brand new"}), Catch::Contains("dim"));
  // cancellation
  CountingExtractor c3("encoder/c");
  CHECK_THROWS_AS(FeatureCache(dir).get(c3, {"x"}, 1, [](int64_t, int64_t, const std::string&) { return false; }),
                  Cancelled);
}

TEST_CASE("features file round trip and row alignment by query id", "[routing][features]") {
  auto dir = fresh_dir("ffile");
  auto s = test::make_synthetic(5, 3, 4, 1);
  std::vector<std::string> ids = s.table.query_ids;
  auto path = dir + "/spec.safetensors";
  save_features_file(path, s.specific, ids, s.table.models);
  // load in another order
  std::vector<std::string> order = {ids[3], ids[0]};
  auto f = load_features_file(path, FeatureKind::kSpecific, order, s.table.models);
  REQUIRE(f.mats.size() == 3);
  CHECK(f.dims() == std::vector<int64_t>{4, 6, 8});
  CHECK(torch::equal(f.mats[2][0], s.specific.mats[2][3]));
  CHECK(torch::equal(f.mats[1][1], s.specific.mats[1][0]));
  CHECK_THROWS_WITH(load_features_file(path, FeatureKind::kSpecific, {"nope"}, s.table.models),
                    Catch::Contains("nope"));
  CHECK_THROWS_WITH(load_features_file(path, FeatureKind::kSpecific, order, {"model-0", "other"}),
                    Catch::Contains("specific/other"));
  CHECK_THROWS_AS(load_features_file(path, FeatureKind::kAgnostic, order, s.table.models), InvalidArgument);
  auto apath = dir + "/agn.safetensors";
  save_features_file(apath, s.agnostic, ids, s.table.models);
  auto a = load_features_file(apath, FeatureKind::kAgnostic, ids, {});
  CHECK(torch::equal(a.mats[0], s.agnostic.mats[0]));
  // a truncated file is a FormatError, never a crash
  {
    std::ifstream in(apath, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/cut.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  }
  CHECK_THROWS_AS(load_features_file(dir + "/cut.safetensors", FeatureKind::kAgnostic, ids, {}), FormatError);
  CHECK_THROWS_AS(load_features_file(dir + "/missing.safetensors", FeatureKind::kAgnostic, ids, {}), IoError);
}
