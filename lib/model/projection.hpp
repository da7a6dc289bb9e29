// The decoder's projections and embedding table, as float tensors or as a GGUF file's quantized
// weights kept quantized (ModelOptions::weights = native; docs/runtime.md, "Quantized weights").
#pragma once

#include <torch/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "model/weights.hpp"

namespace breadth::model {

/// y = x W^T + b for a weight W [N, K].
class Projection {
 public:
  Projection() = default;
  /// A float weight (already in the model's dtype and on its device) and an optional bias.
  static Projection dense(torch::Tensor weight, torch::Tensor bias = {});
  /// `g` in libtorch's packed 4-bit layout, run by `_weight_int4pack_mm_for_cpu` with the groups'
  /// scales and offsets (4 bits: scale s, zero offset + 8 s, since the kernel computes
  /// (q - 8) s + zero; 8 bits: two 4-bit halves of q + 128, so Q8_0 costs the same bytes). The kernel
  /// is fast only in bfloat16: activations, scales and zeros are rounded to bfloat16, its output
  /// comes back in the input's dtype. nullopt when the kernel cannot take the shape (N a multiple
  /// of 16 and K of 32).
  static std::optional<Projection> packed(const GroupQuantized& g, torch::Tensor bias = {});

  torch::Tensor operator()(const torch::Tensor& x) const;
  bool defined() const { return weight_.defined() || !parts_.empty(); }
  bool quantized() const { return !parts_.empty(); }
  /// Bytes of weight memory held (packed integers and their scales, or the float weight).
  int64_t weight_bytes() const;

  /// One packed 4-bit matrix and its kernel's scales and zeros.
  struct Part {
    torch::Tensor packed;        // [N, K/2] uint8
    torch::Tensor scales_zeros;  // [K/32, N, 2] bfloat16
  };

 private:
  /// A dense float32 or bfloat16 projection of at most kGemvMaxRows rows on the CPU through
  /// gemv_f32/gemv_bf16; nullopt where those do not apply (the caller uses linear).
  std::optional<torch::Tensor> few_rows(const torch::Tensor& x) const;

  torch::Tensor weight_, bias_;
  std::vector<Part> parts_;
  int64_t in_ = 0, out_ = 0;
};

/// Token id -> embedding row, from a float table or from rows decoded out of the mapped file.
class TokenEmbedding {
 public:
  TokenEmbedding() = default;
  static TokenEmbedding dense(torch::Tensor table);
  /// Rows decoded to float32 on lookup, then cast to `dtype` (CPU only).
  static TokenEmbedding encoded(std::shared_ptr<const EncodedRows> rows, torch::ScalarType dtype);

  /// ids [...] int64 -> [..., H].
  torch::Tensor operator()(const torch::Tensor& ids) const;
  bool defined() const { return table_.defined() || rows_ != nullptr; }
  /// The float table (empty for encoded rows).
  const torch::Tensor& table() const { return table_; }

 private:
  torch::Tensor table_;
  std::shared_ptr<const EncodedRows> rows_;
  torch::ScalarType dtype_ = torch::kFloat32;
};

}  // namespace breadth::model
