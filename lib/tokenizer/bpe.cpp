#include "tokenizer/bpe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <queue>

#include "core/check.hpp"

namespace breadth::tok {

BpeModel::BpeModel(std::vector<std::pair<std::string, int32_t>> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions opts,
                   std::string_view where)
    : opts_(std::move(opts)) {
  vocab_.assign(std::move(vocab), where);
  size_t cap = 16;
  int bits = 4;
  while (cap < merges.size() * 2) {
    cap <<= 1;
    ++bits;
  }
  shift_ = 64 - bits;
  merges_.assign(cap, MergeEntry{~0ull, 0, 0});
  const std::string& prefix = opts_.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a), ib = vocab_.find(b);
    BREADTH_CHECK_FORMAT(ia && ib, "{}: merge #{} '{} {}' uses a token missing from the vocabulary", where, rank,
                         a, b);
    // With a continuing-subword prefix the merged token drops the prefix of its right part.
    std::string merged = a + b.substr(std::min(prefix.size(), b.size()));
    const auto inew = vocab_.find(merged);
    BREADTH_CHECK_FORMAT(inew.has_value(), "{}: merge #{} '{} {}' makes '{}', which is not in the vocabulary", where,
                         rank, a, b, merged);
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(*ia)) << 32) | static_cast<uint32_t>(*ib);
    size_t h = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    while (merges_[h].key != ~0ull && merges_[h].key != key) h = (h + 1) & (cap - 1);
    // A repeated merge keeps its last rank, as the reference's map insertion does.
    merges_[h] = MergeEntry{key, static_cast<int32_t>(rank), *inew};
  }
  if (opts_.unk_token) unk_id_ = vocab_.find(*opts_.unk_token);
  for (int b = 0; b < 256; ++b) {
    const auto id = opts_.byte_fallback ? vocab_.find(fmt::format("<0x{:02X}>", b)) : std::nullopt;
    byte_ids_[b] = id ? *id : -1;
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (opts_.ignore_merges) {
    if (auto id = vocab_.find(word)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWord;
  if (cacheable) {
    std::shared_lock lock(cache_mutex_);
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  merge_word(word, out);
  if (cacheable) {
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(std::string(word), std::vector<int32_t>(out.begin() + first, out.end()));
  }
}

void BpeModel::merge_word(std::string_view w, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id, prev, next;
    uint32_t len;
  };
  std::vector<Sym> syms;
  syms.reserve(w.size());
  auto add = [&](int32_t id, uint32_t len) {
    const int32_t n = static_cast<int32_t>(syms.size());
    syms.push_back(Sym{id, n - 1, -1, len});
    if (n > 0) syms[n - 1].next = n;
  };
  bool unk = false;  // a pending unk (unk_id, unk_len) not yet added
  int32_t unk_id = -1;
  uint32_t unk_len = 0;
  std::string buf;
  for (size_t i = 0; i < w.size();) {
    const size_t start = i;
    i += cp_len(static_cast<unsigned char>(w[i]));
    if (i > w.size()) i = w.size();
    const auto byte_len = static_cast<uint32_t>(i - start);
    std::string_view s = w.substr(start, i - start);
    if ((start > 0 && !opts_.continuing_subword_prefix.empty()) || (i == w.size() && !opts_.end_of_word_suffix.empty())) {
      buf.clear();
      if (start > 0) buf += opts_.continuing_subword_prefix;
      buf += s;
      if (i == w.size()) buf += opts_.end_of_word_suffix;
      s = buf;
    }
    if (auto id = vocab_.find(s)) {
      if (unk) {
        add(unk_id, unk_len);
        unk = false;
      }
      add(*id, byte_len);
      continue;
    }
    if (opts_.byte_fallback) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        // tokenizers adds the byte tokens without flushing a pending unk first.
        for (unsigned char b : s) add(byte_ids_[b], 1);
        continue;
      }
    }
    if (opts_.unk_token) {
      BREADTH_CHECK_FORMAT(unk_id_.has_value(), "BPE unk_token '{}' is not in the vocabulary", *opts_.unk_token);
      if (unk && opts_.fuse_unk) {
        unk_len += byte_len;
      } else {
        if (unk) add(unk_id, unk_len);
        unk = true;
        unk_id = *unk_id_;
        unk_len = byte_len;
      }
    }
  }
  if (unk) add(unk_id, unk_len);

  struct Merge {
    int32_t pos, rank, new_id;
  };
  auto worse = [](const Merge& a, const Merge& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
  std::priority_queue<Merge, std::vector<Merge>, decltype(worse)> queue(worse);
  for (size_t k = 0; k + 1 < syms.size(); ++k)
    if (const auto* m = find_merge(syms[k].id, syms[k + 1].id))
      queue.push(Merge{static_cast<int32_t>(k), m->rank, m->new_id});
  while (!queue.empty()) {
    const Merge top = queue.top();
    queue.pop();
    Sym& cur = syms[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const Sym right = syms[next_pos];
    const auto* m = find_merge(cur.id, right.id);
    if (!m || m->new_id != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    syms[next_pos].len = 0;
    if (right.next >= 0) syms[right.next].prev = top.pos;
    if (cur.prev >= 0)
      if (const auto* pm = find_merge(syms[cur.prev].id, cur.id)) queue.push(Merge{cur.prev, pm->rank, pm->new_id});
    if (cur.next >= 0)
      if (const auto* nm = find_merge(cur.id, syms[cur.next].id)) queue.push(Merge{top.pos, nm->rank, nm->new_id});
  }
  for (const auto& s : syms)
    if (s.len != 0) out.push_back(s.id);
}

}  // namespace breadth::tok
