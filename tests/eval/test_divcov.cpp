// div-cov, NoveltyBench's figures, the equivalences and the JSONL interface.
#include <nlohmann/json.hpp>

#include <fstream>

#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "common/test_env.hpp"
#include "eval/eval_catch.hpp"

using namespace breadth;

namespace {
std::string novelty_path() {
  return test::shared_dir() + "/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl";
}
}  // namespace

TEST_CASE("NoveltyBench's utility and distinct from the real gemini-1.5-pro partitions and scores") {
  auto records = read_eval_jsonl(novelty_path());
  REQUIRE(records.size() == 100);
  // The recorded per-query figures, read independently of breadth's parser.
  std::ifstream in(novelty_path());
  std::vector<nlohmann::json> truth;
  for (std::string line; std::getline(in, line);) truth.push_back(nlohmann::json::parse(line));
  REQUIRE(truth.size() == 100);

  auto unused = exact_match_equivalence();  // the records carry their partitions
  auto fallback = constant_quality(1.0);
  double utility_sum = 0, legacy_sum = 0, distinct_sum = 0;
  for (size_t k = 0; k < records.size(); ++k) {
    INFO(truth[k]["id"]);
    auto r = evaluate_record(records[k], *unused, *fallback);
    CHECK(r.utility == Approx(truth[k]["utility"].get<double>()).margin(1e-12));
    CHECK(r.distinct_legacy == truth[k]["distinct"].get<int64_t>());
    CHECK(r.num_unique == truth[k]["distinct"].get<int64_t>() + 1);
    CHECK(r.generation_scores == truth[k]["generation_scores"].get<std::vector<double>>());
    utility_sum += r.utility;
    legacy_sum += static_cast<double>(r.distinct_legacy);
    distinct_sum += static_cast<double>(r.num_unique);
  }
  // gemini-1.5-pro-curated-summary.json: mean_utility 2.8658255953362204, mean_distinct 0.83.
  CHECK(utility_sum / 100 == Approx(2.8658255953362204).epsilon(1e-13));
  CHECK(legacy_sum / 100 == Approx(0.83).epsilon(1e-14));
  CHECK(distinct_sum / 100 == Approx(1.83).epsilon(1e-14));
}

TEST_CASE("utility: hand-worked values") {
  CHECK(noveltybench_utility({10, 0, 0}) == Approx(10 / (1 + 0.8 + 0.64)));
  CHECK(noveltybench_utility({0, 5}) == Approx(5 * 0.8 / 1.8));
  CHECK(noveltybench_utility({}) == 0.0);
  CHECK(noveltybench_utility({3, 3, 3}, 1.0) == Approx(3.0));
  CHECK_THROWS_AS(noveltybench_utility({1}, 0.0), InvalidArgument);
}

TEST_CASE("reward mapping is bisect_left over NoveltyBench's thresholds, plus one") {
  CHECK(reward_to_score(-100) == 1);
  CHECK(reward_to_score(-7.71875) == 1);  // equal to a threshold: bisect_left stays left
  CHECK(reward_to_score(-7.7) == 2);
  CHECK(reward_to_score(-6.0) == 3);
  CHECK(reward_to_score(-5.0) == 6);
  CHECK(reward_to_score(-2.046875) == 9);
  CHECK(reward_to_score(-2.0) == 10);
  CHECK(reward_to_score(50) == 10);
  CHECK_THROWS_AS(reward_to_score(std::nan("")), InvalidArgument);
}

TEST_CASE("div-cov of a fixed-answer question with a gold set") {
  std::vector<std::string> answers = {"Paris", "paris.", "Lyon", "Berlin", "Marseille", "LYON"};
  auto gold = gold_quality({"Paris", "Lyon", "Marseille", "Nice"});
  auto r = evaluate_divcov("Name a city in France.", answers, *exact_match_equivalence(), *gold);
  CHECK(r.partition == std::vector<int>{0, 0, 1, 2, 3, 1});
  CHECK(r.quality == std::vector<double>{1, 1, 1, 0, 1, 1});
  CHECK(r.num_unique == 4);
  CHECK(r.qual == Approx(5.0 / 6));
  CHECK(r.unq_qual == Approx(3.0 / 4));
  CHECK(r.div_cov == Approx(3.0 / 4));  // 3 correct unique answers / min(B = 6, |A*| = 4)
  DivCovOptions big;
  big.budget = 50;
  CHECK(evaluate_divcov("q", answers, *exact_match_equivalence(), *gold, big).div_cov == Approx(0.75));
  DivCovOptions small;
  small.budget = 3;
  CHECK_THROWS_AS(evaluate_divcov("q", answers, *exact_match_equivalence(), *gold, small), InvalidArgument);
  // A budget smaller than the gold set: the denominator is B.
  auto r2 = evaluate_divcov("q", {"Paris", "Nice"}, *exact_match_equivalence(), *gold);
  CHECK(r2.div_cov == Approx(1.0));
}

TEST_CASE("div-cov of an open-ended question with known classes, embeddings and rewards") {
  // Answers whose first letter is their class; the embedder maps a letter to an axis (plus a small
  // per-answer tilt), so cosine > 0.9 exactly within a class.
  std::vector<std::string> answers = {"a1", "a2", "b1", "c1", "b2"};
  int embed_calls = 0;
  auto embed = [&](const std::vector<std::string>& texts) {
    ++embed_calls;
    auto e = torch::zeros({static_cast<int64_t>(texts.size()), 4}, torch::kFloat32);
    for (size_t i = 0; i < texts.size(); ++i) {
      e[i][texts[i][0] - 'a'] = 1.0;
      e[i][3] = 0.1f * static_cast<float>(texts[i][1] - '0');
    }
    return e;
  };
  auto eq = embedding_equivalence(embed, 0.9);
  auto rewards = [](const std::string&, const std::vector<std::string>& a) {
    std::map<std::string, double> r = {{"a1", -1.0}, {"a2", -8.0}, {"b1", -5.0}, {"c1", -6.0}, {"b2", -2.046875}};
    std::vector<double> out;
    for (const auto& x : a) out.push_back(r.at(x));
    return out;
  };
  auto q = reward_quality(rewards);
  auto r = evaluate_divcov("Name a letter.", answers, *eq, *q);
  CHECK(embed_calls == 1);  // each answer embedded once for the whole set
  CHECK(r.partition == std::vector<int>{0, 0, 1, 2, 1});
  CHECK(r.quality == std::vector<double>{10, 1, 6, 3, 9});
  CHECK(r.num_unique == 3);
  CHECK(r.div_cov == Approx(19.0 / 50));  // (10 + 6 + 3) / (B = 5 * q_max = 10)
  CHECK(r.qual == Approx(29.0 / 5));
  CHECK(r.unq_qual == Approx(19.0 / 3));
  CHECK(r.generation_scores == std::vector<double>{10, 0, 6, 3, 0});
  CHECK(r.utility == Approx((10 + 6 * 0.64 + 3 * 0.512) / (1 + 0.8 + 0.64 + 0.512 + 0.4096)));
  CHECK(r.num_unique == 3);
  CHECK(r.distinct_legacy == 2);
  // Constant quality: div-cov = #unique / B.
  CHECK(evaluate_divcov("q", answers, *eq, *constant_quality(7)).div_cov == Approx(3.0 / 5));
}

namespace {
struct CountingClassifier : PairClassifier {
  mutable std::vector<size_t> batches;
  std::vector<double> probabilities(const std::vector<std::pair<std::string, std::string>>& pairs) const override {
    batches.push_back(pairs.size());
    std::vector<double> p;
    for (const auto& [a, b] : pairs) p.push_back(a[0] == b[0] ? 0.2 : 0.1);  // around 0.102
    return p;
  }
};
}  // namespace

TEST_CASE("classifier equivalence: P > 0.102, one batched call per candidate") {
  auto c = std::make_shared<CountingClassifier>();
  auto eq = classifier_equivalence(c);
  auto cls = partition({"x1", "y1", "x2", "z1", "y2", "z2"}, *eq);
  CHECK(cls == std::vector<int>{0, 1, 0, 2, 1, 2});
  // Candidates 2..6 see 1, 2, 2, 3, 3 representatives.
  CHECK(c->batches == std::vector<size_t>{1, 2, 2, 3, 3});
  // Greedy against representatives, not against every member: "ab" ~ "a?" chains do not merge.
  auto chain = classifier_equivalence(c, 0.15);
  CHECK(partition({"a", "b", "ab"}, *chain) == std::vector<int>{0, 1, 0});
}

TEST_CASE("NoveltyBench shortcut: short pairs by shared unigrams, long pairs to the fallback in one batch") {
  auto c = std::make_shared<CountingClassifier>();
  auto eq = unigram_shortcut_equivalence(classifier_equivalence(c));
  auto judge = [&](const std::string& a, const std::string& b) {
    std::vector<std::string> s = {a, b};
    return eq->prepare(s)->equivalent({{0, 1}})[0];
  };
  CHECK(judge("New York City", "new york") == 1);  // 2 shared, longer 3: 4 >= 3
  CHECK(judge("red", "blue") == 0);
  CHECK(judge("the cat", "the dog") == 1);  // 2 * 1 >= 2: the rule's own verdict
  CHECK(judge("a b c d e", "a b f g h") == 0);  // 4 < 5
  CHECK(judge("a b c d e", "A B C g h") == 1);  // lowercased: 6 >= 5
  CHECK(judge("  Ünïcode  WORD ", "ünïcode word") == 1);
  c->batches.clear();
  // Six words: the classifier decides ("s..." vs "s...": same first letter -> 0.2 > 0.102).
  CHECK(judge("six words are in this one", "six other words") == 1);
  CHECK(c->batches == std::vector<size_t>{1});
  std::vector<std::string> set = {"one two", "one two three four five six seven", "one", "four five",
                                  "one two three four five six eight"};
  c->batches.clear();
  auto cls = partition(set, *eq);
  // The long answers go to the classifier, which calls "o..." and "o..." equivalent.
  CHECK(cls == std::vector<int>{0, 0, 0, 1, 0});
  // Only long pairs reached the classifier, each candidate's in one call: answer 1 against one
  // representative, answer 4 against both.
  CHECK(c->batches == std::vector<size_t>{1, 2});
}

TEST_CASE("ROUGE-1 and exact equivalences") {
  auto r = rouge1_equivalence();
  auto judge = [&](const Equivalence& e, const std::string& a, const std::string& b) {
    std::vector<std::string> s = {a, b};
    return e.prepare(s)->equivalent({{0, 1}})[0];
  };
  CHECK(judge(*r, "The cat sat.", "the cat ran") == 1);  // F = 2/3
  CHECK(judge(*r, "the cat sat on the mat", "a dog ran") == 0);
  CHECK(judge(*r, "", "") == 0);  // rouge-score gives F = 0 for empty texts
  auto e = exact_match_equivalence();
  CHECK(judge(*e, " \"Paris.\" ", "paris") == 1);
  CHECK(judge(*e, "New  York", "new york!") == 1);
  CHECK(judge(*e, "New York", "NewYork") == 0);
  CHECK(normalize_answer("  ÉCOLE\tNormale ") == "école normale");
}

TEST_CASE("JSONL records: optional fields, extra fields ignored, clear errors") {
  auto r = parse_eval_record(
      R"({"id": 7, "prompt": "p", "generations": ["a", "b"], "partition": [0, 0], "scores": [3, 4],
          "model": "x", "unknown": {"nested": true}})",
      "t:1");
  CHECK(*r.id == "7");
  CHECK(r.generations.size() == 2);
  CHECK(*r.partition == std::vector<int>{0, 0});
  auto res = evaluate_record(r, *exact_match_equivalence(), *constant_quality());
  CHECK(res.div_cov == Approx(3.0 / 20));  // scores on NoveltyBench's 1..10 scale
  CHECK(res.qual == Approx(3.5));

  auto g = parse_eval_record(R"({"prompt": "p", "generations": ["Paris", "paris", "Rome"], "gold": ["Paris"]})", "t:2");
  auto gres = evaluate_record(g, *exact_match_equivalence(), *constant_quality());
  CHECK(gres.partition == std::vector<int>{0, 0, 1});
  CHECK(gres.div_cov == Approx(1.0));  // 1 / min(3, 1)

  auto rw = parse_eval_record(R"({"prompt": "p", "generations": ["a", "b"], "rewards": [-1.0, -8.0]})", "t:3");
  CHECK(evaluate_record(rw, *exact_match_equivalence(), *constant_quality()).quality == std::vector<double>{10, 1});

  auto bad = [](const std::string& line) { return parse_eval_record(line, "f.jsonl:3"); };
  CHECK_THROWS_AS(bad("{not json"), FormatError);
  CHECK_THROWS_AS(bad("[1, 2]"), FormatError);
  CHECK_THROWS_AS(bad(R"({"generations": []})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p"})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": 3, "generations": []})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a", 2]})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a"], "scores": [1, 2]})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a", "b"], "partition": [0]})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a", "b"], "partition": [0, 0.5]})"), FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a", "b"], "partition": [0, 1], "partition_scores": [1]})"),
                  FormatError);
  CHECK_THROWS_AS(bad(R"({"prompt": "p", "generations": ["a"], "token_ids": [[1, -2]]})"), FormatError);
  try {
    bad(R"({"prompt": "p", "generations": ["a"], "scores": ["x"]})");
    FAIL("no error");
  } catch (const FormatError& e) {
    CHECK(std::string(e.what()).find("f.jsonl:3") != std::string::npos);
    CHECK(std::string(e.what()).find("scores[0]") != std::string::npos);
  }
  CHECK_THROWS_AS(read_eval_jsonl("/nonexistent/file.jsonl"), IoError);
}

TEST_CASE("partitions with arbitrary labels are canonicalized; partition_scores is indexed by label") {
  CHECK(canonical_partition({3, 3, 7, 1}) == std::vector<int>{0, 0, 1, 2});
  CHECK(canonical_partition({-1, 5, -1, 0, 5}) == std::vector<int>{0, 1, 0, 2, 1});
  CHECK(canonical_partition({0, 1, 0}) == std::vector<int>{0, 1, 0});  // canonical stays as it is
  CHECK(canonical_partition({}).empty());

  // Hand-worked: labels [3, 3, 7, 1], partition_scores[label] = {1: 2, 3: 9, 7: 5}; B = 4, q_max = 10.
  // Classes in first-appearance order: {a, b} (label 3), {c} (7), {d} (1); qualities 9, 9, 5, 2.
  auto r = parse_eval_record(
      R"({"prompt": "p", "generations": ["a", "b", "c", "d"], "partition": [3, 3, 7, 1],
          "partition_scores": [0, 2, 0, 9, 0, 0, 0, 5]})",
      "t:1");
  CHECK(*r.partition == std::vector<int>{3, 3, 7, 1});  // the record keeps what the file says
  auto res = evaluate_record(r, *exact_match_equivalence(), *constant_quality());
  CHECK(res.partition == std::vector<int>{0, 0, 1, 2});
  CHECK(res.quality == std::vector<double>{9, 9, 5, 2});
  CHECK(res.num_unique == 3);
  CHECK(res.div_cov == Approx((9.0 + 5 + 2) / 40));
  CHECK(res.qual == Approx(25.0 / 4));
  CHECK(res.unq_qual == Approx(16.0 / 3));
  CHECK(res.generation_scores == std::vector<double>{9, 0, 5, 2});
  CHECK(res.utility == Approx((9 + 0.64 * 5 + 0.512 * 2) / (1 + 0.8 + 0.64 + 0.512)));
  // The same answer set labelled canonically (with partition_scores reindexed by hand) gives the same.
  auto c = evaluate_record(parse_eval_record(R"({"prompt": "p", "generations": ["a", "b", "c", "d"],
          "partition": [0, 0, 1, 2], "partition_scores": [9, 5, 2]})",
                                             "t:2"),
                           *exact_match_equivalence(), *constant_quality());
  CHECK(c.div_cov == res.div_cov);
  CHECK(c.utility == res.utility);

  // Per-answer scores with arbitrary (negative too) labels: representatives are indices 0, 2, 3.
  auto s = evaluate_record(parse_eval_record(R"({"prompt": "p", "generations": ["a", "b", "c", "d"],
          "partition": [-4, -4, 12, 0], "scores": [4, 6, 5, 1]})",
                                             "t:3"),
                           *exact_match_equivalence(), *constant_quality());
  CHECK(s.partition == std::vector<int>{0, 0, 1, 2});
  CHECK(s.div_cov == Approx(10.0 / 40));
  CHECK(s.unq_qual == Approx(10.0 / 3));

  // A label with no entry in partition_scores: a FormatError naming the entry and the mapping.
  try {
    parse_eval_record(R"({"prompt": "p", "generations": ["a", "b"], "partition": [3, 9],
                         "partition_scores": [0, 0, 0, 4]})",
                      "f.jsonl:5");
    FAIL("no error");
  } catch (const FormatError& e) {
    const std::string m = e.what();
    CHECK(m.find("f.jsonl:5") != std::string::npos);
    CHECK(m.find("'partition[1]' = 9") != std::string::npos);
    CHECK(m.find("indexed by the partition's labels") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_eval_record(R"({"prompt": "p", "generations": ["a"], "partition": [-1],
                                       "partition_scores": [1]})",
                                    "f:1"),
                  FormatError);
  // A record built in code is checked the same way by evaluate_record.
  EvalRecord built;
  built.prompt = "p";
  built.generations = {"a", "b"};
  built.partition = std::vector<int>{5, 5};
  built.partition_scores = std::vector<double>{1, 2};
  CHECK_THROWS_AS(evaluate_record(built, *exact_match_equivalence(), *constant_quality()), InvalidArgument);
  // divcov_from takes any labels too.
  auto d = divcov_from({7, 2, 7}, {3.0, 1.0, 5.0}, 6.0);
  CHECK(d.partition == std::vector<int>{0, 1, 0});
  CHECK(d.div_cov == Approx(4.0 / 6));
}

TEST_CASE("divcov_from rejects inconsistent input") {
  CHECK_THROWS_AS(divcov_from({0, 1}, {1.0}, 2.0), InvalidArgument);
  CHECK_THROWS_AS(divcov_from({0}, {NAN}, 2.0), InvalidArgument);
  CHECK_THROWS_AS(divcov_from({0}, {1.0}, 0.0), InvalidArgument);
  auto empty = divcov_from({}, {}, 1.0);
  CHECK(empty.div_cov == 0.0);
  CHECK(empty.num_unique == 0);
}
