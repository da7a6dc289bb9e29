// The fine-tuned BERT router: its training against PyTorch/transformers on a tiny random BERT
// (make_bert_router_reference.py: losses, kept epoch, final weights and scores), save/load without
// the base checkpoint, and on real MiniLM weights a table whose best model is decided by the query
// text, where it must beat the baselines.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "breadth/error.hpp"
#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"
#include "common/fixture_json.hpp"
#include "common/test_env.hpp"
#include "io/safetensors.hpp"
#include "routing_pipeline/bert_reference.hpp"
#include "routing_pipeline/pipeline_test_util.hpp"

using namespace breadth;

namespace {

std::string ref_dir() { return test::fixtures_dir() + "/bert_router_reference"; }

torch::Tensor read(const io::SafetensorsFile& f, const std::string& name) {
  const auto& v = f.at(name);
  REQUIRE(v.dtype == io::DType::F32);
  return torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, torch::kFloat32).clone();
}

std::vector<int64_t> ints(const nlohmann::ordered_json& j) { return j.get<std::vector<int64_t>>(); }

}  // namespace

TEST_CASE("the BERT router trains as PyTorch does (AdamW, same batches, early stopping)", "[routing][bert]") {
  auto ref = test::read_fixture_json("bert_router_reference", "reference.json");
  auto table = load_routing_table(ref_dir() + "/table.jsonl");
  REQUIRE(table.models == ref["models"].get<std::vector<std::string>>());
  Split split{ints(ref["split"]["train"]), ints(ref["split"]["val"]), ints(ref["split"]["test"])};
  auto o = test::bert_reference_options(ref["options"], ref_dir() + "/encoder");
  std::vector<double> losses;
  o.on_step = [&](int64_t, int64_t, double loss) { losses.push_back(loss); };
  auto router = train_bert_router(table, split, o);

  auto want = ref["losses"].get<std::vector<double>>();
  REQUIRE(losses.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK_THAT(losses[i], Catch::Matchers::WithinAbs(want[i], 2e-5));
  CHECK(router->config().epochs == ref["best_epoch"].get<int64_t>());
  CHECK(router->config().kind == RouterKind::kBert);
  CHECK(router->reads_texts());

  auto scores = router->scores_texts(table.queries);
  for (int64_t q = 0; q < table.num_queries(); ++q)
    for (int64_t m = 0; m < table.num_models(); ++m)
      CHECK_THAT(scores[q][m].item<double>(),
                 Catch::Matchers::WithinAbs(ref["scores"][q][m].get<double>(), 2e-5));

  // Saved: the head, and the fine-tuned encoder as a checkpoint of its own, equal to PyTorch's.
  const std::string dir = test::pipeline_scratch_dir("bert-router");
  router->save(dir);
  io::SafetensorsFile final_w(ref_dir() + "/final.safetensors");
  io::SafetensorsFile enc_w(dir + "/encoder/model.safetensors");
  io::SafetensorsFile head_w(dir + "/weights.safetensors");
  io::SafetensorsFile base_w(ref_dir() + "/encoder/model.safetensors");
  int64_t compared = 0;
  double moved = 0;
  for (const auto& [name, view] : final_w.tensors()) {
    auto want_t = read(final_w, name);
    auto got = read(name.rfind("head.", 0) == 0 ? head_w : enc_w, name);
    REQUIRE(got.sizes() == want_t.sizes());
    INFO(name);
    // Attention key biases shift every score of a query row equally, which softmax ignores: their
    // exact gradient is 0, and Adam scales the rounding noise that stands in for it to steps of size
    // lr in either direction. They are compared with that allowance.
    const bool key_bias = name.find("attention.self.key.bias") != std::string::npos;
    CHECK((got - want_t).abs().max().item<double>() < (key_bias ? 2.0 * o.max_epochs * 3 * o.learning_rate : 5e-5));
    if (name.rfind("head.", 0) != 0) moved = std::max(moved, (want_t - read(base_w, name)).abs().max().item<double>());
    ++compared;
  }
  CHECK(compared == static_cast<int64_t>(enc_w.tensors().size()) + 2);
  CHECK(moved > 1e-3);  // training moved the encoder far more than the tolerance

  // Loads every kind; the plain loader refuses it and points to load_router.
  auto loaded = load_router(dir, table.models);
  CHECK(loaded->config().epochs == router->config().epochs);
  CHECK(torch::allclose(loaded->scores_texts(table.queries), scores, 0, 1e-6));
  auto d = route_text(*loaded, table.queries[0], 2, 10);
  CHECK(d.models.size() == 2);
  CHECK_THROWS_AS(Router::load(dir), InvalidArgument);
  CHECK_THROWS_AS(loaded->scores(Features{}), InvalidArgument);
  CHECK_THROWS_AS(load_router(dir, {"gamma", "beta", "alpha"}), InvalidArgument);
  TrainOptions to;
  to.kind = RouterKind::kBert;
  CHECK_THROWS_AS(train_router(table, Features{}, split, to), InvalidArgument);

  // evaluate_router reads the table's texts for a text router.
  auto rep = evaluate_router(*loaded, table, Features{});
  CHECK(rep.best_router == "bert");
}

TEST_CASE("fine-tuned on MiniLM, the BERT router learns text-decided labels and beats the baselines",
          "[routing][bert][minilm]") {
  const std::string minilm = test::models_dir() + "/all-minilm-l6-v2";
  // Three kinds of query, each best answered by its own model.
  const std::vector<std::vector<std::string>> kinds = {
      {"Name a color", "Name a colour you like", "Tell me a color", "Pick a random color", "Say a color name",
       "Give me one color", "Which color is nice?", "Name a shade of color", "A color, please",
       "Suggest a paint color", "Name a bright color", "Name a dark color", "Choose a color for a wall",
       "What color should my car be?", "Name a pastel color", "Favourite color?", "Name a warm color",
       "Name a cool color", "Color for a dress?", "Give a color for a logo"},
      {"Write a poem about the sea", "Write a short poem about rain", "Compose a poem about autumn",
       "Write a poem on love", "A poem about the moon, please", "Write verses about a river",
       "Write a poem for my mother", "Poem about winter snow", "Write a sonnet about time",
       "Write a poem about a lonely tree", "Compose verses about the stars", "Write a poem about friendship",
       "Write a rhyming poem about cats", "A short poem about the city", "Write a poem about morning",
       "Write a poem about the mountains", "Poem about a summer night", "Write a poem about hope",
       "Write a poem about the wind", "Compose a poem about spring"},
      {"What is 2 plus 3?", "Compute 7 times 8", "What is 15 minus 4?", "Add 12 and 30", "What is 9 squared?",
       "Divide 100 by 4", "What is 3 times 14?", "Calculate 81 divided by 9", "What is 45 plus 55?",
       "Multiply 6 by 7", "What is 1000 minus 1?", "Sum of 8 and 13?", "What is 2 to the power 10?",
       "Compute 144 divided by 12", "What is 17 plus 26?", "What is 5 times 5?", "Subtract 19 from 50",
       "What is 11 times 11?", "Add 250 and 250", "What is 64 divided by 8?"}};
  std::vector<RoutingRow> rows;
  const std::vector<std::string> pool = {"colors", "poet", "calc"};
  for (size_t i = 0; i < 20; ++i)
    for (size_t k = 0; k < kinds.size(); ++k) {
      const std::string id = "q" + std::to_string(k) + "-" + std::to_string(i);
      for (size_t m = 0; m < pool.size(); ++m) {
        RoutingRow r;
        r.query_id = id;
        r.query = kinds[k][i];
        r.model = pool[m];
        // The kind's own model is best; model "calc" is a little better on average elsewhere, so
        // Top overall is a real baseline.
        r.figures.div_cov = m == k ? 0.8 : (m == 2 ? 0.35 : 0.2);
        r.figures.unq = r.figures.qual = r.figures.unq_qual = 1;
        rows.push_back(r);
      }
    }
  auto table = make_routing_table(rows);
  auto split = split_queries(table.num_queries(), 0);
  BertRouterOptions o;
  o.encoder = minilm;
  o.seed = 1;
  o.labels = {LabelType::kSoft};  // one label type: half the CPU time of the default pair
  auto router = train_bert_router(table, split, o);
  auto test_table = table.select(split.test);
  auto rep = evaluate_router(*router, test_table, Features{});
  auto row = [&](const std::string& name) {
    for (const auto& r : rep.rows)
      if (r.method == name) return r;
    FAIL("no row " << name);
    return ReportRow{};
  };
  auto bert = row("bert"), top = row("Top overall"), random = row("Random model per query"),
       freq = row("Frequency");
  INFO("bert acc " << bert.accuracy << " cov " << bert.mean.div_cov << "; top overall " << top.mean.div_cov);
  CHECK(bert.accuracy >= 0.9);
  CHECK(bert.mean.div_cov > top.mean.div_cov + 0.2);
  CHECK(bert.mean.div_cov > random.mean.div_cov + 0.2);
  CHECK(bert.mean.div_cov > freq.mean.div_cov + 0.2);
}
