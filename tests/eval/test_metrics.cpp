// Diversity metrics on hand-worked cases (values worked out by hand or quoted from nltk's docs).

#include <cmath>

#include "breadth/error.hpp"
#include "breadth/metrics.hpp"
#include "eval/eval_catch.hpp"

using namespace breadth;
using V = std::vector<std::string>;

TEST_CASE("word tokenizers") {
  // nltk.wordpunct_tokenize gives exactly this (runs of word characters, runs of the rest).
  CHECK(word_tokenize("Hello, it's 3.5 x_y \xC3\xA9\xE2\x80\x94ok") ==
        V{"Hello", ",", "it", "'", "s", "3", ".", "5", "x_y", "\xC3\xA9", "\xE2\x80\x94", "ok"});
  CHECK(word_tokenize("  ").empty());
  CHECK(word_tokenize("a\xC2\xA0" "b\x1c" "c", WordTokenizer::kWordPunct) == V{"a", "b", "c"});
  CHECK(word_tokenize("a\xC2\xA0" "b  c\n", WordTokenizer::kWhitespace) == V{"a", "b", "c"});
  CHECK(rouge_tokenize("Hello, World! 3rd-place; \xE2\x84\xAA" "elvin") == V{"hello", "world", "3rd", "place", "kelvin"});
  CHECK(rouge_tokenize("caf\xC3\xA9 \xC4\xB0stanbul") == V{"caf", "i", "stanbul"});
  // Invalid UTF-8 never crashes and never reads past the end.
  CHECK_NOTHROW(word_tokenize(std::string("ab\xC3", 3)));
  CHECK_NOTHROW(rouge_tokenize(std::string("\xF0\x9F", 2)));
}

TEST_CASE("ROUGE-1 and ROUGE-L as rouge-score defines them") {
  auto t = rouge_tokenize("the cat sat on the mat");
  auto p = rouge_tokenize("the cat on mat");
  auto l = rouge_l(t, p);
  CHECK(l.precision == Approx(1.0));
  CHECK(l.recall == Approx(4.0 / 6));
  CHECK(l.fmeasure == Approx(0.8));
  auto one = rouge1(t, p);  // overlap: the(1) cat on mat = 4
  CHECK(one.precision == Approx(1.0));
  CHECK(one.recall == Approx(4.0 / 6));
  CHECK(rouge_l({}, p).fmeasure == 0.0);
  CHECK(rouge1({}, {}).fmeasure == 0.0);
}

TEST_CASE("Distinct-n and EAD-n") {
  // unigrams a b a | a b: 2 unique of 5; bigrams (a b) (b a) | (a b): 2 of 3.
  CHECK(distinct_n({"a b a", "a b"}, 1) == Approx(0.4));
  CHECK(distinct_n({"a b a", "a b"}, 2) == Approx(2.0 / 3));
  CHECK(distinct_n({"a", "b"}, 3) == 0.0);
  CHECK_THROWS_AS(distinct_n({"a"}, 0), InvalidArgument);
  // V = 4, N = 4 unigrams, 3 unique: 3 / (4 (1 - (3/4)^4)).
  CHECK(ead_n({{1, 2}, {1, 3}}, 1, 4) == Approx(3.0 / (4 * (1 - std::pow(0.75, 4)))));
  // V = 16 bigrams of a 4-token vocabulary, N = 2, both unique.
  CHECK(ead_n({{1, 2, 3}}, 2, 4) == Approx(2.0 / (16 * (1 - std::pow(15.0 / 16, 2)))));
  // A huge V: the expectation tends to N, so EAD tends to Distinct.
  CHECK(ead_n({{1, 2, 1}}, 4, 150000) == 0.0);
  CHECK(ead_n({{1, 2, 1, 2, 5}}, 2, 150000) == Approx(3.0 / 4).epsilon(1e-9));
  CHECK_THROWS_AS(ead_n({{1}}, 1, 0), InvalidArgument);
}

TEST_CASE("sentence BLEU equals nltk's documented example") {
  auto split = [](const std::string& s) { return word_tokenize(s, WordTokenizer::kWhitespace); };
  auto hyp1 = split("It is a guide to action which ensures that the military always obeys the commands of the party");
  auto ref1 = split("It is a guide to action that ensures that the military will forever heed Party commands");
  auto ref2 = split("It is the guiding principle which guarantees the military forces always being under the command of the Party");
  auto ref3 = split("It is the practical guide for the army always to heed the directions of the party");
  // nltk.translate.bleu_score docstring: sentence_bleu([ref1, ref2, ref3], hyp1) -> 0.5045...
  CHECK(sentence_bleu({ref1, ref2, ref3}, hyp1, {0.25, 0.25, 0.25, 0.25}, BleuSmoothing::kNone) ==
        Approx(0.5045).margin(1e-4));
  // No common unigram: 0, whatever the smoothing.
  CHECK(sentence_bleu({{"x", "y"}}, {"a", "b"}) == 0.0);
  // Identical long texts: 1.
  CHECK(self_bleu({"a b c d e", "a b c d e", "a b c d e"}) == Approx(1.0));
  CHECK(self_bleu({"only one"}) == 0.0);
  CHECK_THROWS_AS(sentence_bleu({}, {"a"}), InvalidArgument);
  SelfBleuOptions none;
  none.weights = {};
  CHECK_THROWS_AS(self_bleu({"a", "b"}, none), InvalidArgument);
}

TEST_CASE("Self-ROUGE-L") {
  // LCS(a b c d, a c d e) = 3: P = R = F = 3/4.
  CHECK(self_rouge_l({"a b c d", "a c d e"}) == Approx(0.75));
  // Three texts: F(1,2) = 0.75, F(1,3) = 0, F(2,3) = 0.
  CHECK(self_rouge_l({"a b c d", "a c d e", "x y"}) == Approx(0.25));
  CHECK(self_rouge_l({"a b c d", "a c d e", "x y"}, PairAggregate::kMeanOfMax) == Approx(0.5));
}

TEST_CASE("Vendi score and embedding dissimilarity") {
  CHECK(vendi_score(torch::eye(3, torch::kFloat64)) == Approx(3.0));
  CHECK(vendi_score(torch::ones({4, 4}, torch::kFloat64)) == Approx(1.0));
  // K/2 has eigenvalues 0.75 and 0.25.
  auto k = torch::tensor({{1.0, 0.5}, {0.5, 1.0}}, torch::kFloat64);
  CHECK(vendi_score(k) == Approx(std::exp(-(0.75 * std::log(0.75) + 0.25 * std::log(0.25)))));
  CHECK_THROWS_AS(vendi_score(torch::ones({2, 3})), InvalidArgument);
  CHECK_THROWS_AS(vendi_score(torch::tensor({{1.0, std::nan("")}, {std::nan(""), 1.0}})), InvalidArgument);
  CHECK_THROWS_AS(vendi_score(torch::tensor({{1.0, 0.2}, {0.7, 1.0}})), InvalidArgument);
  CHECK(embedding_dissimilarity(torch::eye(3)) == Approx(1.0));
  CHECK(embedding_dissimilarity(torch::ones({3, 5})) == Approx(0.0).margin(1e-12));
  CHECK(vendi_score_embeddings(torch::eye(4)) == Approx(4.0));
  // Jaccard n-gram kernel: {a, b} vs {a, c} share 1 of 3.
  auto j = ngram_kernel({"a b", "a c"}, {1});
  CHECK(j[0][1].item<double>() == Approx(1.0 / 3));
  CHECK(j[0][0].item<double>() == Approx(1.0));
  // Bigrams: {(a b)} vs {(a c)}: 0; averaged with the unigram kernel.
  CHECK(ngram_kernel({"a b", "a c"}, {1, 2})[0][1].item<double>() == Approx(1.0 / 6));
  CHECK(vendi_score_ngram({"the same words here", "the same words here"}) == Approx(1.0));
  // Texts shorter than an order contribute 0 for it, diagonal included (vendi-score's convention):
  // orders 1-3 give ones, order 4 zeros, so K = 0.75 J and K/2 has eigenvalues 0.75 and 0.
  CHECK(vendi_score_ngram({"a b c", "a b c"}) == Approx(std::exp(-0.75 * std::log(0.75))));
}

TEST_CASE("NLI diversity, entailment clusters and semantic entropy") {
  auto p = torch::tensor({{1.0, 0.2, 0.4}, {0.9, 1.0, 0.6}, {0.0, 0.0, 1.0}}, torch::kFloat64);
  CHECK(nli_diversity(p) == Approx((0.2 + 0.4 + 0.6) / 3));
  int calls = 0;
  auto nli = [&](const std::vector<std::pair<std::string, std::string>>& pairs) {
    ++calls;
    std::vector<double> out;
    for (const auto& pr : pairs) out.push_back(pr.first.size() == pr.second.size() ? 1.0 : 0.0);
    return out;
  };
  CHECK(nli_diversity({"aa", "bb", "c"}, nli) == Approx(1.0 / 3));
  CHECK(calls == 1);

  // "b entails a" when a is a prefix of b: "ab" entails "a" but not the converse.
  auto entails = [](const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::vector<uint8_t> out;
    for (const auto& [a, b] : pairs) out.push_back(a.rfind(b, 0) == 0);
    return out;
  };
  auto c = entailment_clusters({"a", "ab", "a", "ab", "c"}, entails);
  CHECK(c == std::vector<int>{0, 1, 0, 1, 2});

  // Discrete: p = (2/3, 1/3).
  const double h = -(2.0 / 3 * std::log(2.0 / 3) + 1.0 / 3 * std::log(1.0 / 3));
  CHECK(semantic_entropy({0, 0, 1}) == Approx(h));
  // Likelihood-weighted, renormalized over the sample: p = (0.75, 0.25) both times.
  const double h2 = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  CHECK(semantic_entropy({0, 0, 1}, {std::log(0.5), std::log(0.25), std::log(0.25)}) == Approx(h2));
  CHECK(semantic_entropy({0, 0, 1}, {std::log(0.1), std::log(0.05), std::log(0.05)}) == Approx(h2));
  // Very small likelihoods (long sequences) stay finite.
  CHECK(semantic_entropy({0, 1}, {-2000.0, -2000.0}) == Approx(std::log(2.0)));
  CHECK(semantic_entropy({0, 0}) == Approx(0.0));
  CHECK_THROWS_AS(semantic_entropy({0, 1}, {0.0}), InvalidArgument);
  CHECK_THROWS_AS(semantic_entropy({0, -1}), InvalidArgument);
  CHECK(distinct_classes({0, 1, 0, 2}) == 3);
}

TEST_CASE("the metrics' choices parse from their names and back; a wrong name says what is accepted") {
  for (auto t : {WordTokenizer::kWordPunct, WordTokenizer::kWhitespace})
    CHECK(parse_word_tokenizer(word_tokenizer_name(t)) == t);
  for (auto s : {BleuSmoothing::kNone, BleuSmoothing::kMethod1})
    CHECK(parse_bleu_smoothing(bleu_smoothing_name(s)) == s);
  CHECK(parse_bleu_smoothing("method0") == BleuSmoothing::kNone);  // nltk's own name for none
  for (auto a : {PairAggregate::kMeanOverPairs, PairAggregate::kMeanOfMax})
    CHECK(parse_pair_aggregate(pair_aggregate_name(a)) == a);
  for (auto k : {NgramKernel::kJaccard, NgramKernel::kCosine}) CHECK(parse_ngram_kernel(ngram_kernel_name(k)) == k);
  // The names are the reference packages' (nltk's wordpunct_tokenize, vendi-score's kernels).
  CHECK(word_tokenizer_name(kDefaultWordTokenizer) == "wordpunct");
  CHECK(ngram_kernel_name(NgramKernel::kCosine) == "cosine");
  try {
    parse_word_tokenizer("nltk", "--tokenizer");
    FAIL("no exception");
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    CHECK(m.find("--tokenizer") != std::string::npos);
    CHECK(m.find("'nltk'") != std::string::npos);
    CHECK(m.find("wordpunct") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_bleu_smoothing("method2"), InvalidArgument);
  CHECK_THROWS_AS(parse_pair_aggregate("min"), InvalidArgument);
  CHECK_THROWS_AS(parse_ngram_kernel("rbf"), InvalidArgument);
}
