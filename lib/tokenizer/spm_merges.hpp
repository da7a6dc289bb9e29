// BPE merges recovered from a SentencePiece-style vocabulary that stores scores instead of merges
// (GGUF files with tokenizer.ggml.model = "llama" and no tokenizer.ggml.merges). The order must be
// exactly the one transformers derives (tokenization_utils_base.generate_merges), since a BPE
// applies merges by rank and a different order gives different ids.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace breadth::tok {

/// transformers' generate_merges(vocab, vocab_scores) with vocab = {tokens[i]: i} and
/// vocab_scores = {tokens[i]: scores[i]} (Python dicts: a repeated token keeps its first position
/// and its last id and score). For every token, each split into two parts that are both tokens is
/// a merge; a token's merges are ordered by the ids of (left, right); then all merges are sorted,
/// stably, by score, then left length, then right length (code points), all descending. `tokens`
/// must be valid UTF-8 and `scores` as long as `tokens`, without NaN (InvalidArgument otherwise).
std::vector<std::pair<std::string, std::string>> merges_from_scores(const std::vector<std::string>& tokens,
                                                                    const std::vector<double>& scores);

}  // namespace breadth::tok
