// The names of the metrics' choices (include/breadth/metrics.hpp): what the Python keywords, the
// experiment files and the CLI accept, decided here once.
#include "breadth/metrics.hpp"
#include "core/check.hpp"

namespace breadth {

std::string_view word_tokenizer_name(WordTokenizer t) {
  return t == WordTokenizer::kWordPunct ? "wordpunct" : "whitespace";
}

WordTokenizer parse_word_tokenizer(std::string_view name, std::string_view what) {
  if (name == "wordpunct") return WordTokenizer::kWordPunct;
  if (name == "whitespace") return WordTokenizer::kWhitespace;
  fail<InvalidArgument>("{} must be 'wordpunct' (nltk's wordpunct_tokenize) or 'whitespace' (str.split()), got '{}'",
                        what, name);
}

std::string_view bleu_smoothing_name(BleuSmoothing s) { return s == BleuSmoothing::kNone ? "none" : "method1"; }

BleuSmoothing parse_bleu_smoothing(std::string_view name, std::string_view what) {
  if (name == "none" || name == "method0") return BleuSmoothing::kNone;
  if (name == "method1") return BleuSmoothing::kMethod1;
  fail<InvalidArgument>("{} must be 'method1' (nltk's epsilon smoothing) or 'none', got '{}'", what, name);
}

std::string_view pair_aggregate_name(PairAggregate a) {
  return a == PairAggregate::kMeanOverPairs ? "mean" : "max";
}

PairAggregate parse_pair_aggregate(std::string_view name, std::string_view what) {
  if (name == "mean") return PairAggregate::kMeanOverPairs;
  if (name == "max") return PairAggregate::kMeanOfMax;
  fail<InvalidArgument>("{} must be 'mean' (over pairs) or 'max' (mean of each text's best), got '{}'", what, name);
}

std::string_view ngram_kernel_name(NgramKernel k) { return k == NgramKernel::kJaccard ? "jaccard" : "cosine"; }

NgramKernel parse_ngram_kernel(std::string_view name, std::string_view what) {
  if (name == "jaccard") return NgramKernel::kJaccard;
  if (name == "cosine") return NgramKernel::kCosine;
  fail<InvalidArgument>("{} must be 'jaccard' or 'cosine' (vendi-score's ngram_vendi_score), got '{}'", what, name);
}

}  // namespace breadth
