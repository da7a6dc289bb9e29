// Diversity metrics over a group of outputs (BACO paper, Appendix C.1; SPEC §5).
//
// Lexical metrics work on words. The word tokenizer is nltk's `wordpunct_tokenize` (regex
// `\w+|[^\w\s]+`, Unicode letters/numbers/underscore as word characters), chosen because it is what
// nltk offers without downloaded data and it can be reproduced exactly; ROUGE metrics use
// rouge-score's own tokenizer (lowercase, non-[a-z0-9] runs as separators, no stemming).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace breadth {

// ----------------------------------------------------------------------------------- tokenizers

enum class WordTokenizer {
  kWordPunct,   ///< nltk.tokenize.wordpunct_tokenize
  kWhitespace,  ///< Python str.split()
};

/// The word tokenizer every lexical metric uses unless told otherwise (vendi-score's and NoveltyBench's).
constexpr WordTokenizer kDefaultWordTokenizer = WordTokenizer::kWordPunct;

std::vector<std::string> word_tokenize(std::string_view text,
                                       WordTokenizer tokenizer = kDefaultWordTokenizer);
/// rouge-score's default tokenizer without stemming: lowercase, every run of characters outside
/// [a-z0-9] is a separator (as Python's str.lower() then re.sub("[^a-z0-9]+", " ")).
std::vector<std::string> rouge_tokenize(std::string_view text);

// --------------------------------------------------------------------------------- ROUGE pieces

struct RougeScore {
  double precision = 0, recall = 0, fmeasure = 0;
};
/// rouge-score's rouge1 of (target, prediction) on already tokenized text.
RougeScore rouge1(const std::vector<std::string>& target, const std::vector<std::string>& prediction);
/// rouge-score's rougeL (LCS) of (target, prediction) on already tokenized text.
RougeScore rouge_l(const std::vector<std::string>& target, const std::vector<std::string>& prediction);

// ------------------------------------------------------------------------------------- lexical

/// Distinct-n: unique n-grams / all n-grams over the group (0 when there are none).
double distinct_n(const std::vector<std::string>& texts, int n,
                  WordTokenizer tokenizer = kDefaultWordTokenizer);
/// The same on already tokenized texts.
double distinct_n_tokens(const std::vector<std::vector<std::string>>& tokens, int n);

/// EAD-n on token ids of the aligned model's tokenizer: |unique n-grams| / (V (1 - ((V-1)/V)^N)),
/// V = vocab_size^n, N = number of n-grams (Liu et al. 2022; BACO Appendix C.1). 0 when N = 0.
double ead_n(const std::vector<std::vector<int32_t>>& token_ids, int n, int64_t vocab_size);

enum class BleuSmoothing {
  kNone,     ///< nltk SmoothingFunction().method0 (a zero n-gram precision makes BLEU ~0)
  kMethod1,  ///< nltk method1: zero counts get epsilon = 0.1 (vendi-score's self_bleu uses this)
};

/// BLEU-4's uniform weights (nltk's default) and vendi-score's smoothing: every BLEU default.
inline const std::vector<double> kDefaultBleuWeights = {0.25, 0.25, 0.25, 0.25};
constexpr BleuSmoothing kDefaultBleuSmoothing = BleuSmoothing::kMethod1;

/// nltk.translate.bleu_score.sentence_bleu(references, hypothesis, weights, smoothing), exactly.
double sentence_bleu(const std::vector<std::vector<std::string>>& references,
                     const std::vector<std::string>& hypothesis,
                     const std::vector<double>& weights = kDefaultBleuWeights,
                     BleuSmoothing smoothing = kDefaultBleuSmoothing);

struct SelfBleuOptions {
  std::vector<double> weights = kDefaultBleuWeights;
  BleuSmoothing smoothing = kDefaultBleuSmoothing;
  WordTokenizer tokenizer = kDefaultWordTokenizer;
};
/// Mean over i of sentence_bleu(others, text_i). Lower is more diverse. 0 for fewer than 2 texts.
double self_bleu(const std::vector<std::string>& texts, const SelfBleuOptions& options = {});

enum class PairAggregate {
  kMeanOverPairs,  ///< mean of F over all pairs i != j (F is symmetric, so over i < j)
  kMeanOfMax,      ///< mean over i of max_{j != i} F (rouge-score's score_multi with the others)
};
/// Self-ROUGE-L: rougeL F between outputs (rouge-score tokenizer). Lower is more diverse.
constexpr PairAggregate kDefaultPairAggregate = PairAggregate::kMeanOverPairs;
double self_rouge_l(const std::vector<std::string>& texts,
                    PairAggregate aggregate = kDefaultPairAggregate);

// ------------------------------------------------------------------------------------ semantic

/// Mean pairwise cosine dissimilarity 1 - cos(e_i, e_j) over i < j of embeddings [n, d].
double embedding_dissimilarity(const torch::Tensor& embeddings);

/// Vendi score exp(-Σ λ log λ) over the positive eigenvalues λ of K/n (K: [n, n] similarity with
/// unit diagonal, symmetric); as vendi_score.vendi.score_K.
double vendi_score(const torch::Tensor& kernel);
/// Vendi of embeddings: rows L2-normalized, K = X X^T (vendi_score.vendi.score_X).
double vendi_score_embeddings(const torch::Tensor& embeddings);

enum class NgramKernel {
  kJaccard,  ///< |set_i ∩ set_j| / |set_i ∪ set_j| of the n-gram sets (SPEC §5)
  kCosine,   ///< cosine of n-gram count vectors (vendi-score's ngram_vendi_score)
};
/// The n-gram kernel averaged over n in `orders`. Texts with no n-gram of an order contribute 0 to
/// that order's entries, diagonal included (as vendi-score does); with the Jaccard kernel two
/// empty sets have similarity 0 too.
constexpr NgramKernel kDefaultNgramKernel = NgramKernel::kJaccard;
/// n-gram orders 1..4, as vendi-score's ngram_vendi_score.
inline const std::vector<int> kDefaultNgramOrders = {1, 2, 3, 4};
torch::Tensor ngram_kernel(const std::vector<std::string>& texts, const std::vector<int>& orders,
                           NgramKernel kind = kDefaultNgramKernel,
                           WordTokenizer tokenizer = kDefaultWordTokenizer);
/// Vendi score with the n-gram kernel.
double vendi_score_ngram(const std::vector<std::string>& texts,
                         const std::vector<int>& orders = kDefaultNgramOrders,
                         NgramKernel kind = kDefaultNgramKernel,
                         WordTokenizer tokenizer = kDefaultWordTokenizer);

// ------------------------------------------------------------------------------------- names
// The names every face (Python keywords, experiment files, the CLI) gives these choices, in one
// place. parse_* throws InvalidArgument naming `what` (the caller's argument) and the accepted names.

std::string_view word_tokenizer_name(WordTokenizer t);  ///< "wordpunct", "whitespace"
WordTokenizer parse_word_tokenizer(std::string_view name, std::string_view what = "tokenizer");
std::string_view bleu_smoothing_name(BleuSmoothing s);  ///< "none" (also parsed: "method0"), "method1"
BleuSmoothing parse_bleu_smoothing(std::string_view name, std::string_view what = "smoothing");
std::string_view pair_aggregate_name(PairAggregate a);  ///< "mean" (over pairs), "max" (mean of each's best)
PairAggregate parse_pair_aggregate(std::string_view name, std::string_view what = "aggregate");
std::string_view ngram_kernel_name(NgramKernel k);      ///< "jaccard", "cosine"
NgramKernel parse_ngram_kernel(std::string_view name, std::string_view what = "kernel");

/// NLI diversity: mean over i < j of P(entailment | premise y_i, hypothesis y_j) from an [n, n]
/// matrix (only the upper triangle is read). Lower is more diverse.
double nli_diversity(const torch::Tensor& entailment);
/// The same with a batched NLI model: one call over all pairs i < j.
double nli_diversity(const std::vector<std::string>& texts,
                     const std::function<std::vector<double>(
                         const std::vector<std::pair<std::string, std::string>>&)>& entailment);

/// Clusters by bidirectional entailment: greedy against each cluster's first member; `entails(a, b)`
/// decides premise a entails hypothesis b (a batch of pairs per call). Returns class ids.
std::vector<int> entailment_clusters(
    const std::vector<std::string>& texts,
    const std::function<std::vector<uint8_t>(const std::vector<std::pair<std::string, std::string>>&)>&
        entails);

/// Semantic entropy -Σ_C p(C) log p(C) over clusters. With `log_likelihoods` (one per text, natural
/// log of the sequence probability), p(C) = Σ_{i∈C} exp(ll_i) / Σ_i exp(ll_i), i.e. the cluster
/// masses renormalized over the sampled set (computed stably with log-sum-exp); without them
/// (empty), p(C) = |C| / n (discrete semantic entropy).
double semantic_entropy(const std::vector<int>& clusters, const std::vector<double>& log_likelihoods = {});

/// Number of classes of a partition (NoveltyBench's distinct).
int64_t distinct_classes(const std::vector<int>& partition);

}  // namespace breadth
