// Helpers shared by the encoder tests: fixture paths and reference tensors.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <string>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "io/safetensors.hpp"

namespace breadth::test {

inline std::string tiny_encoder(const std::string& name) { return fixtures_dir() + "/tiny_encoders/" + name; }

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

/// Every tensor of a safetensors file, copied into CPU tensors.
inline std::map<std::string, torch::Tensor> read_ref(const std::string& path) {
  io::SafetensorsFile f(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, v] : f.tensors()) {
    torch::ScalarType t = torch::kFloat32;
    switch (v.dtype) {
      case io::DType::F32: t = torch::kFloat32; break;
      case io::DType::I64: t = torch::kInt64; break;
      default: FAIL("unexpected dtype in " << path);
    }
    out[name] = torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, t).clone();
  }
  return out;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

/// Max |a - b| over the real (mask = 1) tokens of [B, T, H] tensors.
inline double masked_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  REQUIRE(a.sizes() == b.sizes());
  auto m = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).masked_select(m).abs().max().item<double>();
}

}  // namespace breadth::test
