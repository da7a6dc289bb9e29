// The whole routing pipeline on a pool of three tiny random chat models (make_router_pool.py) and 30
// NoveltyBench prompts: features from the models and from a text encoder (checked against
// transformers), resumable data building with real sampling and DivCov, training, evaluation, the
// report, save/load and picking a route for a new prompt.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "breadth/router_pipeline.hpp"
#include "breadth/sampler.hpp"
#include "routing_pipeline/pipeline_test_util.hpp"

using namespace breadth;

namespace {

const std::vector<std::string> kPool = {"alpha", "beta", "gamma"};

std::string pool_dir() { return test::fixtures_dir() + "/router_pool"; }
std::string model_path(const std::string& name) { return pool_dir() + "/pool/" + name; }

const nlohmann::json& reference() {
  static nlohmann::json j = [] {
    std::ifstream in(pool_dir() + "/reference.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

/// The first 30 NoveltyBench curated prompts, read from the shared data (as the fixture did).
std::vector<std::pair<std::string, std::string>> prompts(size_t n = 30) {
  std::ifstream in(test::shared_dir() + "/data/noveltybench/curated.jsonl");
  REQUIRE(in.good());
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  while (out.size() < n && std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    out.emplace_back(j["id"].get<std::string>(), j["prompt"].get<std::string>());
  }
  return out;
}

std::vector<std::string> texts_of(const std::vector<std::pair<std::string, std::string>>& q) {
  std::vector<std::string> t;
  for (const auto& p : q) t.push_back(p.second);
  return t;
}

std::shared_ptr<const CausalLM> load_model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const CausalLM>> cache;
  auto& m = cache[name];
  if (!m) m = CausalLM::load(model_path(name));
  return m;
}

/// Counts the rows an extractor is asked for (to see what a cache saves).
class Counting final : public FeatureExtractor {
 public:
  explicit Counting(FeatureExtractor& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  torch::Tensor extract(const std::vector<std::string>& q) override {
    rows += static_cast<int64_t>(q.size());
    return inner_.extract(q);
  }
  int64_t rows = 0;

 private:
  FeatureExtractor& inner_;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

ModelSamplerOptions sampler_options() {
  ModelSamplerOptions o;
  o.answers.strategy = AnswerStrategy::kOne;
  o.answers.budget = 3;
  o.answers.batch = 3;
  o.answers.max_generations = 6;
  o.answers.generation.max_new_tokens = 8;
  o.answers.generation.seed = 7;
  o.kind = QuestionKind::kFixed;  // random models rarely write JSON; short lines parse as {a, b} lists
  return o;
}

}  // namespace

TEST_CASE("model-specific features are the last hidden state at the last chat-template token",
          "[routing][pipeline]") {
  auto q = prompts(4);
  const auto& ref = reference();
  for (size_t m = 0; m < kPool.size(); ++m) {
    INFO("model " << kPool[m]);
    auto model = load_model(kPool[m]);
    for (size_t i = 0; i < q.size(); ++i)
      CHECK(encode_prompt(*model, q[i].second, true) == ref["chat_ids"][kPool[m]][i].get<std::vector<int32_t>>());
    ModelFeatureExtractor ex(model, model_path(kPool[m]), /*batch_size=*/3);  // batches of 3 and 1, padded
    auto f = ex.extract(texts_of(q));
    REQUIRE(f.sizes() == torch::IntArrayRef({4, model->config().hidden_size}));
    REQUIRE(f.scalar_type() == torch::kFloat32);
    for (size_t i = 0; i < q.size(); ++i) {
      auto want = torch::tensor(ref["hidden"][kPool[m]][i].get<std::vector<float>>());
      INFO("prompt " << i << " max diff " << (f[static_cast<int64_t>(i)] - want).abs().max().item<float>());
      CHECK(torch::allclose(f[static_cast<int64_t>(i)], want, 1e-4, 1e-4));
    }
    // Padding does not change a row: each prompt alone gives the same features.
    ModelFeatureExtractor one(model, model_path(kPool[m]), 1);
    CHECK(torch::allclose(one.extract(texts_of(q)), f, 1e-5, 1e-5));
    CHECK(ex.name() != ModelFeatureExtractor(model, model_path(kPool[m]), 1, false).name());
  }
  CHECK(model_path("alpha") != model_path("beta"));
  CHECK_THROWS_AS(ModelFeatureExtractor(nullptr, "x"), InvalidArgument);
  CHECK_THROWS_AS(ModelFeatureExtractor(load_model("alpha"), "x", 0), InvalidArgument);
}

TEST_CASE("routing pipeline on three tiny models: features, data, training, evaluation, pick",
          "[routing][pipeline]") {
  auto queries = prompts(30);
  REQUIRE(queries.size() == 30);
  auto texts = texts_of(queries);
  auto dir = test::pipeline_scratch_dir("pipeline");

  // ---------------------------------------------------------------- features, cached on disk
  // The sentence encoder straight from the encoder component; wrapping it or its TextEmbedder is the
  // same extractor.
  std::shared_ptr<const Encoder> encoder = Encoder::load(pool_dir() + "/encoder");
  EmbedderFeatureExtractor enc(encoder, pool_dir() + "/encoder");
  EmbedderFeatureExtractor via_embedder(make_text_embedder(encoder), pool_dir() + "/encoder");
  CHECK(via_embedder.name() == enc.name());
  CHECK(torch::equal(via_embedder.extract({texts[0], texts[1]}), enc.extract({texts[0], texts[1]})));
  CHECK_THROWS_AS(EmbedderFeatureExtractor(std::shared_ptr<const Encoder>(), "x"), InvalidArgument);
  FeatureCache cache(dir + "/features");
  Counting enc_count(enc);
  auto agn = compute_features(FeatureKind::kAgnostic, {&enc_count}, texts, &cache);
  REQUIRE(agn.mats.size() == 1);
  CHECK(agn.mats[0].sizes() == torch::IntArrayRef({30, 32}));
  CHECK(enc_count.rows == 30);
  // distinct prompts, distinct rows
  CHECK((agn.mats[0][0] - agn.mats[0][1]).abs().max().item<float>() > 1e-4);

  std::vector<std::unique_ptr<ModelFeatureExtractor>> exs;
  std::vector<std::unique_ptr<Counting>> counts;
  std::vector<FeatureExtractor*> ptrs;
  for (const auto& n : kPool) {
    exs.push_back(std::make_unique<ModelFeatureExtractor>(load_model(n), model_path(n)));
    counts.push_back(std::make_unique<Counting>(*exs.back()));
    ptrs.push_back(counts.back().get());
  }
  int64_t last_done = -1, last_total = -1;
  auto spec = compute_features(FeatureKind::kSpecific, ptrs, texts, &cache, [&](int64_t d, int64_t t, const std::string&) {
    CHECK(d > last_done);
    last_done = d;
    last_total = t;
    return true;
  });
  CHECK(last_done == 90);
  CHECK(last_total == 90);
  CHECK(spec.dims() == std::vector<int64_t>{32, 48, 64});
  CHECK(spec.rows() == 30);
  // a second pass (e.g. a rerun of the CLI) reads everything from the cache
  for (auto& c : counts) c->rows = 0;
  auto spec2 = compute_features(FeatureKind::kSpecific, ptrs, texts, &cache);
  for (size_t m = 0; m < kPool.size(); ++m) {
    CHECK(counts[m]->rows == 0);
    CHECK(torch::equal(spec2.mats[m], spec.mats[m]));
  }
  CHECK_THROWS_AS(compute_features(FeatureKind::kAgnostic, ptrs, texts), InvalidArgument);

  // The same features from checkpoint paths (what the CLI's --model / --encoder give): each pool
  // model's checkpoint found by its name, in any order.
  FeatureSources sources;
  sources.models = {model_path("gamma"), model_path("alpha"), model_path("beta")};
  sources.encoder = pool_dir() + "/encoder";
  sources.encoder_options = EncoderOptions{};  // the CPU, as `enc` above
  sources.cache_dir = dir + "/features-by-path";
  std::vector<std::string> stages;
  sources.stage_progress = [&](const std::string& stage) {
    stages.push_back(stage);
    return std::function<bool(int64_t, int64_t, const std::string&)>();
  };
  std::vector<std::string> ids;
  for (const auto& q : queries) ids.push_back(q.first);
  auto spec_paths = query_features(sources, FeatureKind::kSpecific, ids, texts, kPool);
  REQUIRE(spec_paths.mats.size() == 3);
  for (size_t m = 0; m < kPool.size(); ++m) CHECK(torch::allclose(spec_paths.mats[m], spec.mats[m], 1e-5, 1e-5));
  auto agn_paths = query_features(sources, FeatureKind::kAgnostic, ids, texts, kPool);
  CHECK(torch::allclose(agn_paths.mats[0], agn.mats[0], 1e-5, 1e-5));
  CHECK(stages == std::vector<std::string>{"features (alpha)", "features (beta)", "features (gamma)",
                                           "features (encoder)"});
  FeatureSources missing = sources;
  missing.models.pop_back();  // no checkpoint for beta
  CHECK_THROWS_AS(query_features(missing, FeatureKind::kSpecific, ids, texts, kPool), InvalidArgument);

  // ---------------------------------------------------------------- data, interrupted and resumed
  int loads = 0;
  auto loader = [&](const std::string& name) {
    ++loads;
    CHECK(std::find(kPool.begin(), kPool.end(), name) != kPool.end());
    return CausalLM::load(model_path(name));
  };
  auto scorer = divcov_scorer(exact_match_equivalence(), constant_quality(), 3);
  const std::string whole = dir + "/whole.jsonl", resumed = dir + "/resumed.jsonl";
  CHECK(build_routing_data(queries, kPool, model_answer_sampler(loader, sampler_options()), scorer, whole) == 90);
  CHECK(loads == 3);  // one model loaded at a time, model by model

  BuildDataOptions stop;
  stop.on_progress = [](int64_t done, int64_t total, const std::string&) {
    CHECK(total == 90);
    return done < 40;
  };
  CHECK_THROWS_AS(build_routing_data(queries, kPool, model_answer_sampler(loader, sampler_options()), scorer,
                                     resumed, stop),
                  Cancelled);
  CHECK(lines_of(resumed).size() == 40);
  int64_t computed = -1;
  BuildDataOptions rest;
  rest.on_progress = [&](int64_t, int64_t total, const std::string&) {
    CHECK(total == 50);  // only the missing cells
    return true;
  };
  computed = build_routing_data(queries, kPool, model_answer_sampler(loader, sampler_options()), scorer, resumed, rest);
  CHECK(computed == 50);
  CHECK(build_routing_data(queries, kPool, model_answer_sampler(loader, sampler_options()), scorer, resumed) == 0);
  auto a = lines_of(whole), b = lines_of(resumed);
  REQUIRE(a.size() == 90);
  REQUIRE(b.size() == 90);
  std::set<std::pair<std::string, std::string>> cells;
  for (const auto& l : b) CHECK(cells.insert({parse_routing_row(l).query_id, parse_routing_row(l).model}).second);
  CHECK(cells.size() == 90);
  // seeded sampling: the resumed file holds exactly the rows of the uninterrupted run
  CHECK(std::multiset<std::string>(a.begin(), a.end()) == std::multiset<std::string>(b.begin(), b.end()));

  int64_t with_answers = 0;
  for (const auto& l : a) {
    auto r = parse_routing_row(l);
    CHECK(r.answers.size() <= 3);
    std::set<std::string> uniq;
    for (const auto& ans : r.answers) uniq.insert(normalize_answer(ans));
    CHECK(r.figures.unq == static_cast<double>(uniq.size()));  // exact match: classes = normalized strings
    CHECK(r.figures.div_cov == Approx(r.figures.unq / 3.0));    // constant quality 1, B = 3
    with_answers += r.answers.empty() ? 0 : 1;
  }
  CHECK(with_answers > 45);  // the tiny models do answer

  // ---------------------------------------------------------------- training and evaluation
  TableOptions to;
  to.pool = kPool;
  auto table = load_routing_table(whole, to);
  REQUIRE(table.num_queries() == 30);
  REQUIRE(table.has_answers());
  CHECK(table.query_ids[0] == queries[0].first);
  auto split = split_queries(30, 0);
  MlpGrid grid;
  grid.hidden = {16};
  grid.weight_decay = {0.0, 1e-2};
  grid.max_epochs = 30;
  grid.patience = 5;
  std::map<std::string, std::shared_ptr<Router>> routers;
  for (auto* f : {&agn, &spec}) {
    for (auto kind : {RouterKind::kKnn, RouterKind::kMwayMlp, RouterKind::kBinaryMlp}) {
      TrainOptions o;
      o.kind = kind;
      o.knn_k = 1;
      o.grid = grid;
      auto r = train_router(table, *f, split, o);
      auto s = r->scores(*f);
      REQUIRE(s.sizes() == torch::IntArrayRef({30, 3}));
      CHECK(torch::isfinite(s).all().item<bool>());
      CHECK(r->config().feature_dims == f->dims());
      CHECK(r->pool() == kPool);
      routers[std::string(feature_kind_name(f->kind)) + "/" + router_kind_name(kind)] = r;
    }
  }
  auto test_table = table.select(split.test);
  auto ev = evaluate_router(*routers["specific/binary_mlp"], test_table, spec.select(split.test), 3, 0, scorer, 200);
  CHECK(ev.exact_pairs);
  CHECK(ev.test_queries == static_cast<int64_t>(split.test.size()));
  std::set<std::string> methods;
  for (const auto& row : ev.rows) {
    methods.insert(row.method);
    CHECK(row.mean.div_cov >= 0);
    CHECK(row.mean.div_cov <= 1);
    CHECK(row.per_query_cov.size() == split.test.size());
  }
  CHECK(methods.size() == ev.rows.size());
  auto j = nlohmann::json::parse(ev.to_json());
  CHECK(j.is_object());
  CHECK(!ev.to_markdown().empty());

  ReportOptions ro;
  ro.seeds = 2;
  ro.budget = 3;
  ro.permutations = 200;
  ro.grid = grid;
  ro.scorer = scorer;
  auto rep = routing_report(table, {{"agn", agn}, {"spec", spec}}, split, ro);
  CHECK(rep.seeds == 2);
  CHECK(rep.exact_pairs);
  int routers_seen = 0;
  for (const auto& row : rep.rows) routers_seen += row.is_router ? 1 : 0;
  CHECK(routers_seen >= 8);  // KNN-1, KNN-5, M-way and binary, for agn and spec (plus their top-2 rows)
  CHECK(nlohmann::json::parse(rep.to_json()).is_object());

  // ---------------------------------------------------------------- save, load, pick
  for (const auto& [key, r] : routers) {
    INFO(key);
    auto rdir = dir + "/router-" + std::to_string(std::hash<std::string>()(key));
    r->save(rdir);
    auto back = Router::load(rdir, kPool);
    const Features& f = key.rfind("agnostic", 0) == 0 ? agn : spec;
    CHECK(torch::equal(back->scores(f), r->scores(f)));
    CHECK_THROWS_AS(Router::load(rdir, {"gamma", "beta", "alpha"}), InvalidArgument);
  }
  // a new prompt (not in the table): its features from the three models, routed to the top 2
  auto fresh = prompts(31).back().second;
  auto f_new = compute_features(FeatureKind::kSpecific, ptrs, {fresh}, &cache);
  auto d = route(*routers["specific/binary_mlp"], f_new, 0, 2, 3);
  REQUIRE(d.models.size() == 2);
  CHECK(d.models[0] != d.models[1]);
  CHECK(d.budgets[0] + d.budgets[1] == 3);
  CHECK(d.scores[0] >= d.scores[1]);
  for (const auto& m : d.models) CHECK(std::find(kPool.begin(), kPool.end(), m) != kPool.end());
  auto ranked = routers["specific/binary_mlp"]->rank(f_new)[0];
  CHECK(d.models[0] == kPool[static_cast<size_t>(ranked[0])]);
}
