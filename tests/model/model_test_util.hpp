// Helpers shared by the model tests: reading reference tensors written by the fixture scripts.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <string>

#include "breadth/model.hpp"
#include "common/test_env.hpp"
#include "io/safetensors.hpp"

namespace breadth::test {

/// Every tensor of a safetensors file, copied into CPU tensors.
inline std::map<std::string, torch::Tensor> read_tensors(const std::string& path) {
  io::SafetensorsFile f(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, v] : f.tensors()) {
    torch::ScalarType t;
    switch (v.dtype) {
      case io::DType::F32: t = torch::kFloat32; break;
      case io::DType::F64: t = torch::kFloat64; break;
      case io::DType::BF16: t = torch::kBFloat16; break;
      case io::DType::F16: t = torch::kFloat16; break;
      case io::DType::I64: t = torch::kInt64; break;
      case io::DType::I32: t = torch::kInt32; break;
      case io::DType::U8: t = torch::kUInt8; break;
      case io::DType::BOOL: t = torch::kBool; break;
      default: FAIL("unexpected dtype in " << path); continue;
    }
    out[name] = torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, t).clone();
  }
  return out;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  INFO("cannot read " << path << ": the fixtures are written at test time by tests/fixtures/*.py; run "
       "the test through ctest (e.g. `ctest -R model_` in the build directory), which runs its "
       "fixture_* setup step first, with BREADTH_FIXTURES_DIR pointing at build/fixtures");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

inline std::vector<int32_t> to_ids(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  std::vector<int32_t> out;
  for (int64_t i = 0; i < c.numel(); ++i) out.push_back(static_cast<int32_t>(c.data_ptr<int64_t>()[i]));
  return out;
}

/// `m` on the SmolLM2 reference (tests/fixtures/make_smollm2_reference.py): the prompt's logits at
/// every position, then greedy decoding with `m`'s own argmax through its KV cache for as many steps
/// as transformers took. The largest |difference| from transformers' logits over the prompt and
/// over the steps, and the tokens `m` chose. `m` may be on any device.
struct GreedyRun {
  double prompt_err = 0, step_err = 0;
  std::vector<int64_t> ids;
};
inline GreedyRun greedy_against_reference(const CausalLM& m, std::map<std::string, torch::Tensor>& ref) {
  GreedyRun run;
  KvCache cache;
  ForwardOptions all;
  all.last_only = false;
  // Inputs on m's device, so that a model on a GPU runs the same check.
  auto logits = m.forward(cache, ref["prompt_ids"].unsqueeze(0).to(m.device()), {}, all).logits[0];
  run.prompt_err = max_abs_diff(logits, ref["prompt_logits"]);
  auto last = logits[-1].unsqueeze(0);
  run.step_err = max_abs_diff(last[0], ref["greedy_logits"][0]);
  const int64_t steps = ref["greedy_ids"].size(0);
  for (int64_t s = 0; s < steps; ++s) {
    auto next = last.argmax(-1);
    run.ids.push_back(next.item<int64_t>());
    last = m.decode(cache, next);
    run.step_err = std::max(run.step_err, max_abs_diff(last[0], ref["greedy_logits"][s + 1]));
  }
  return run;
}

/// A [n] int64 tensor's values.
inline std::vector<int64_t> to_int64(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

/// `m` on the SmolLM2 reference meets transformers: logits within `tol` over the prompt and the
/// greedy steps, and the same greedy tokens.
inline void check_greedy_against_reference(const CausalLM& m, std::map<std::string, torch::Tensor>& ref,
                                           double tol) {
  auto run = greedy_against_reference(m, ref);
  INFO("max |breadth - transformers| over the prompt: " << run.prompt_err << ", over the steps: " << run.step_err);
  CHECK(run.prompt_err < tol);
  CHECK(run.step_err < tol);
  CHECK(run.ids == to_int64(ref["greedy_ids"]));
}

}  // namespace breadth::test
