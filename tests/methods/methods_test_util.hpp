// Shared helpers for the methods tests: the tiny pairs and reference computations by full forward
// passes (no KV cache), independent of the library's decoding loops.
#pragma once

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "breadth/chat_template.hpp"
#include "breadth/methods.hpp"
#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"

namespace methods_test {

using namespace breadth;

struct Pair {
  std::shared_ptr<CausalLM> base, aligned;
};

inline const Pair& pair(const std::string& name) {
  static std::map<std::string, Pair> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  torch::set_num_threads(1);
  auto dir = breadth::test::fixtures_dir() + "/baco_pairs/" + name;
  Pair p{CausalLM::load(dir + "/base"), CausalLM::load(dir + "/aligned")};
  return cache.emplace(name, std::move(p)).first->second;
}

/// Next-token logits [1, V] for `ids` by one full forward pass on a fresh cache.
inline torch::Tensor full_logits(const CausalLM& m, const std::vector<int32_t>& ids) {
  KvCache cache = m.new_cache(1, static_cast<int64_t>(ids.size()) + 1);
  return m.prefill(cache, {ids});
}

inline std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The aligned prompt as BACO renders it (the fixture's chat template) and the base prompt (shifting).
inline std::vector<int32_t> aligned_ids(const CausalLM& m, const std::string& prompt) {
  return m.tokenizer()->encode_chat(prompt);
}
inline std::vector<int32_t> base_ids(const CausalLM& m, const std::string& prompt) {
  return m.tokenizer()->encode(prompt + "\n", /*add_special=*/true);
}

}  // namespace methods_test
