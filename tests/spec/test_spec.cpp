// breadth/spec.hpp: the one grammar for equivalences, quality scorers and metrics.
#include <cmath>

#include "breadth/encoder.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "breadth/metrics.hpp"
#include "breadth/spec.hpp"
#include "breadth/tokenizer.hpp"
#include "encoder/encoder_test_util.hpp"

using namespace breadth;
using breadth::test::tiny_encoder;

namespace {

std::string minilm_dir() { return breadth::test::models_dir() + "/all-minilm-l6-v2"; }

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

EvalRecord record(std::vector<std::string> generations) {
  EvalRecord r;
  r.prompt = "p";
  r.generations = std::move(generations);
  return r;
}

}  // namespace

TEST_CASE("equivalence specs name the judge they build") {
  CHECK(make_equivalence("exact")->name() == "exact");
  CHECK(make_equivalence("rouge1")->name() == "rouge1>0.458");
  CHECK(make_equivalence("rouge1:0.5")->name() == "rouge1>0.5");
  CHECK(make_equivalence("noveltybench-shortcut")->name() == "noveltybench-shortcut(rouge1>0.458)");
  CHECK(make_equivalence("noveltybench-shortcut:exact")->name() == "noveltybench-shortcut(exact)");
}

TEST_CASE("bad equivalence specs are InvalidArgument naming the spec and the forms") {
  for (const char* bad : {"bogus", "rouge1:x", "rouge1:", "exact:1", "embedding:", "classifier:",
                          "noveltybench-shortcut:bogus"}) {
    INFO(bad);
    CHECK_THROWS_AS(make_equivalence(bad), InvalidArgument);
  }
  CHECK(error_of([] { make_equivalence("bogus"); }).find("'bogus'") != std::string::npos);
  CHECK(error_of([] { make_equivalence("bogus"); }).find("rouge1[:T]") != std::string::npos);
  // An embedding needs its cosine threshold.
  CHECK(error_of([] { make_equivalence("embedding:" + minilm_dir()); }).find("threshold") != std::string::npos);
  // A model that is not there is an I/O error from the loader, not a silent fallback.
  CHECK_THROWS_AS(make_equivalence("embedding:/no/such/model:0.8"), IoError);
  // A sentence encoder is not a classifier.
  CHECK_THROWS_AS(make_equivalence("classifier:" + minilm_dir()), InvalidArgument);
}

TEST_CASE("model-backed equivalences equal the judge built directly") {
  const std::vector<std::string> answers = {"a red apple", "a green pear", "an apple, red", "the sky at night",
                                            "apples are red", "a pear that is green"};
  // MiniLM embeddings (tests/encoder checks them against sentence-transformers).
  auto enc = Encoder::load(minilm_dir());
  for (double t : {0.5, 0.7, 0.9}) {
    INFO("threshold " << t);
    auto direct = embedding_equivalence(make_text_embedder(enc), t);
    auto spec = make_equivalence("embedding:" + minilm_dir() + ":" + std::to_string(t));
    CHECK(partition(answers, *spec) == partition(answers, *direct));
  }
  // NoveltyBench's classifier shape: the tiny DeBERTa-v3 pair classifier, default threshold 0.102.
  const std::string deberta = tiny_encoder("deberta_v3_cls");
  auto cls = make_noveltybench_classifier(deberta);
  auto spec = make_equivalence("classifier:" + deberta);
  CHECK(spec->name() == "classifier>0.102");
  CHECK(partition(answers, *spec) == partition(answers, *classifier_equivalence(cls, 0.102)));
  for (double t : {0.3, 0.5, 0.7}) {
    auto s = make_equivalence("classifier:" + deberta + ":" + std::to_string(t));
    CHECK(partition(answers, *s) == partition(answers, *classifier_equivalence(cls, t)));
  }
}

TEST_CASE("quality specs") {
  auto c = make_quality("const:2.5");
  CHECK(c->max_score() == 2.5);
  CHECK(c->score("p", {"a", "b"}) == std::vector<double>{2.5, 2.5});
  for (const char* bad : {"const:", "const:0", "const:-1", "const:x", "bogus", "reward:"}) {
    INFO(bad);
    CHECK_THROWS_AS(make_quality(bad), InvalidArgument);
  }
  CHECK_THROWS_AS(make_quality("reward:/no/such/model"), IoError);
  // reward:PATH is the NoveltyBench mapping of the reward model's raw scores (1..10).
  const std::string rm_path = tiny_encoder("reward");
  auto direct = reward_quality(make_reward_model(CausalLM::load(rm_path)));
  auto spec = make_quality("reward:" + rm_path);
  const std::vector<std::string> answers = {"Paris.", "It is Paris, the capital.", "Lyon"};
  CHECK(spec->score("What is the capital of France?", answers) ==
        direct->score("What is the capital of France?", answers));
  CHECK(spec->max_score() == 10.0);
}

TEST_CASE("metric specs compute the named metric (hand-worked values)") {
  auto rec = record({"a b", "a c"});
  DivCovResult d;
  d.partition = {0, 1};
  // distinct-1: {a, b, c} unique of 4 unigrams; distinct-2: both bigrams unique.
  CHECK(make_metric("distinct_1")->compute(rec, d, "t") == Approx(0.75));
  CHECK(make_metric("distinct_2")->compute(rec, d, "t") == Approx(1.0));
  CHECK(make_metric("distinct_2")->name() == "distinct_2");
  // Semantic entropy of two equally likely classes (no log-likelihoods: counts) is ln 2.
  CHECK(make_metric("semantic_entropy")->compute(rec, d, "t") == Approx(std::log(2.0)));
  d.partition = {0, 0};
  CHECK(make_metric("semantic_entropy")->compute(rec, d, "t") == Approx(0.0).margin(1e-12));
  // Identical texts: Self-BLEU 1 (each is the other's reference), Vendi 1.
  auto same = record({"the cat sat on the mat", "the cat sat on the mat"});
  CHECK(make_metric("self_bleu")->compute(same, d, "t") == Approx(1.0));
  CHECK(make_metric("vendi_ngram")->compute(same, d, "t") == Approx(1.0));
  CHECK(make_metric("self_rouge_l")->compute(same, d, "t") == Approx(1.0));
}

TEST_CASE("bad metric specs are InvalidArgument naming what is missing") {
  CHECK(error_of([] { make_metric("bogus"); }).find("distinct_N") != std::string::npos);
  for (const char* bad : {"distinct_", "distinct_0", "distinct_17", "distinct_x", "ead_", "self_bleu:x"}) {
    INFO(bad);
    CHECK_THROWS_AS(make_metric(bad), InvalidArgument);
  }
  CHECK(error_of([] { make_metric("vendi_embedding"); }).find("--embedder") != std::string::npos);
  CHECK(error_of([] { make_metric("nli_diversity"); }).find("--nli") != std::string::npos);
  // EAD without a tokenizer fails at compute time, naming the record.
  auto ead = make_metric("ead_2");
  CHECK(error_of([&] { ead->compute(record({"a"}), DivCovResult{}, "line 3"); }).find("line 3") != std::string::npos);
}

TEST_CASE("model-backed metrics equal the metric over the judge built directly; models load once") {
  const std::vector<std::string> g = {"a red apple", "a green pear", "the sky at night"};
  auto rec = record(g);
  auto emb = make_text_embedder(Encoder::load(minilm_dir()));
  SpecOptions o;
  o.embedder = minilm_dir();
  auto ms = make_metrics({"vendi_embedding", "embedding_dissimilarity:" + minilm_dir()}, o);
  REQUIRE(ms.size() == 2);
  CHECK(ms[0]->name() == "vendi_embedding");
  CHECK(ms[1]->name() == "embedding_dissimilarity");
  CHECK(ms[0]->compute(rec, DivCovResult{}, "t") == Approx(vendi_score_embeddings(emb->embed(g))));
  CHECK(ms[1]->compute(rec, DivCovResult{}, "t") == Approx(embedding_dissimilarity(emb->embed(g))));
  // NLI diversity through the tiny RoBERTa NLI head.
  const std::string nli_path = tiny_encoder("roberta_nli");
  auto nli = make_nli_classifier(Encoder::load(nli_path));
  auto want = nli_diversity(g, [&](const std::vector<std::pair<std::string, std::string>>& p) {
    return nli->probabilities(p);
  });
  CHECK(make_metric("nli_diversity:" + nli_path)->compute(rec, DivCovResult{}, "t") == Approx(want));
  // EAD with the tokenizer from the options: token ids from the tokenizer equal given token ids.
  SpecOptions t;
  t.tokenizer = minilm_dir();
  auto tok = Tokenizer::load(minilm_dir());
  auto with_ids = rec;
  with_ids.token_ids = std::vector<std::vector<int32_t>>{};
  for (const auto& s : g) with_ids.token_ids->push_back(tok->encode(s));
  auto ead = make_metric("ead_2", t);
  CHECK(ead->compute(rec, DivCovResult{}, "t") == Approx(ead->compute(with_ids, DivCovResult{}, "t")));
  CHECK(ead->compute(rec, DivCovResult{}, "t") == Approx(ead_n(*with_ids.token_ids, 2, tok->vocab_size())));
}

TEST_CASE("judges load on the device the caller names") {
  SpecOptions o;
  o.device = torch::Device("cuda:0");
  if (!torch::cuda::is_available()) {
    // No GPU here: the spec layer must not fall back to the CPU behind the caller's back.
    CHECK_THROWS(make_equivalence("embedding:" + minilm_dir() + ":0.8", o));
  }
  SpecOptions cpu;
  CHECK_NOTHROW(make_equivalence("embedding:" + minilm_dir() + ":0.8", cpu));
}
