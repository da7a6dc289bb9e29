// Shared helpers for the BACO decoder tests.
#pragma once

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "breadth/baco.hpp"
#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"

namespace baco_test {

using namespace breadth;

struct Pair {
  std::shared_ptr<CausalLM> base, aligned;
  std::shared_ptr<BacoDecoder> decoder;
};

/// The tiny random pair `name` ("shared" or "cross") from the baco_pairs fixture, loaded once.
inline const Pair& pair(const std::string& name) {
  static std::map<std::string, Pair> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  // Tiny models gain nothing from intra-op threads, and on a busy machine OpenMP's spinning
  // workers cost more than the work.
  torch::set_num_threads(1);
  auto dir = breadth::test::fixtures_dir() + "/baco_pairs/" + name;
  Pair p;
  p.base = CausalLM::load(dir + "/base");
  p.aligned = CausalLM::load(dir + "/aligned");
  p.decoder = std::make_shared<BacoDecoder>(p.base, p.aligned);
  return cache.emplace(name, std::move(p)).first->second;
}

/// The pair `name` loaded with its own ModelOptions per model (devices and dtypes), not cached.
inline Pair load_pair(const std::string& name, const ModelOptions& base, const ModelOptions& aligned) {
  torch::set_num_threads(1);
  auto dir = breadth::test::fixtures_dir() + "/baco_pairs/" + name;
  Pair p;
  p.base = CausalLM::load(dir + "/base", base);
  p.aligned = CausalLM::load(dir + "/aligned", aligned);
  p.decoder = std::make_shared<BacoDecoder>(p.base, p.aligned);
  return p;
}

inline ModelOptions model_options(torch::Device device, torch::ScalarType dtype) {
  ModelOptions o;
  o.device = device;
  o.dtype = dtype;
  return o;
}

inline bool starts_word(const Tokenizer& t, int32_t id) {
  const auto& c = t.token_classes();
  if (id < 0 || static_cast<size_t>(id) >= c.starts_word.size()) return true;
  return c.starts_word[static_cast<size_t>(id)] || c.is_punctuation[static_cast<size_t>(id)] ||
         t.is_special(id);
}
inline bool ends_word(const Tokenizer& t, int32_t id) {
  const auto& c = t.token_classes();
  if (id < 0 || static_cast<size_t>(id) >= c.ends_word.size()) return true;
  return c.ends_word[static_cast<size_t>(id)] || c.is_punctuation[static_cast<size_t>(id)] ||
         t.is_special(id);
}
inline bool punct(const Tokenizer& t, int32_t id) {
  const auto& c = t.token_classes();
  if (id < 0 || static_cast<size_t>(id) >= c.is_punctuation.size()) return true;
  return c.is_punctuation[static_cast<size_t>(id)] || t.is_special(id);
}

/// Ids and sources of a sample, for token-for-token comparisons.
inline std::vector<std::pair<int32_t, int>> trace(const BacoSample& s) {
  std::vector<std::pair<int32_t, int>> out;
  for (const auto& t : s.tokens) out.emplace_back(t.id, static_cast<int>(t.source));
  return out;
}

}  // namespace baco_test
