// The BPE model of `tokenizers`: merges applied by rank with a priority queue (lowest rank first,
// leftmost on ties), a word cache, optional byte fallback (<0xXX> tokens), unk fusing,
// continuing-subword prefix / end-of-word suffix and `ignore_merges` (whole words in the vocabulary
// are taken as they are).
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include "tokenizer/pipeline.hpp"
#include "tokenizer/vocab.hpp"

namespace breadth::tok {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel final : public Model {
 public:
  /// Throws FormatError (naming `where`) when a merge names a token missing from the vocabulary.
  BpeModel(std::vector<std::pair<std::string, int32_t>> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions opts,
           std::string_view where);

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  int32_t size() const override { return vocab_.size(); }

 private:
  struct MergeEntry {
    uint64_t key;  // (left id << 32) | right id; ~0 marks an empty slot
    int32_t rank, new_id;
  };
  const MergeEntry* find_merge(int32_t a, int32_t b) const {
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    size_t h = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    for (;;) {
      const MergeEntry& e = merges_[h];
      if (e.key == key) return &e;
      if (e.key == ~0ull) return nullptr;
      h = (h + 1) & (merges_.size() - 1);
    }
  }
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  Vocab vocab_;
  std::vector<MergeEntry> merges_;
  int shift_ = 64;
  BpeOptions opts_;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];  // <0xXX> tokens, -1 when absent

  static constexpr size_t kCacheCapacity = 1 << 16;
  static constexpr size_t kCacheMaxWord = 256;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace breadth::tok
