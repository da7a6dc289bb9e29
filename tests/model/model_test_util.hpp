// Helpers shared by the model tests: reading reference tensors written by the fixture scripts.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <string>

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
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

inline std::vector<int32_t> to_ids(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  std::vector<int32_t> out;
  for (int64_t i = 0; i < c.numel(); ++i) out.push_back(static_cast<int32_t>(c.data_ptr<int64_t>()[i]));
  return out;
}

}  // namespace breadth::test
