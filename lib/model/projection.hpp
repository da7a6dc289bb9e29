// The decoder's projections and embedding table, as float tensors or as a GGUF file's quantized
// weights kept quantized (ModelOptions::weights = native; docs/runtime.md, "Quantized weights").
#pragma once

#include <torch/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "model/gemv.hpp"
#include "model/weights.hpp"

namespace breadth::model {

/// y = x W^T + b for a weight W [N, K].
class Projection {
 public:
  Projection() = default;
  /// A float weight (already in the model's dtype and on its device) and an optional bias.
  static Projection dense(torch::Tensor weight, torch::Tensor bias = {});
  /// `g` kept as integers and group scales (GroupedWeight's layout: a GGUF block's own bits, with
  /// scales in float16 where that is exact, as the file has them, else in the file's two levels,
  /// else float32: about the file's bytes for every type split_groups takes). A few
  /// rows at a time (a decode step) run through gemv_grouped in float32 arithmetic; more rows
  /// (a prompt) dequantize a slice of the weight at a time into a per-thread scratch buffer and
  /// multiply it there. Either way the result is what the dequantized float weight would give, up
  /// to the order of float32 additions. On the CPU, or on a CUDA device in a CUDA build
  /// (gemv_grouped.cu; Unsupported otherwise): the arrays (and the bias) are moved to `device`.
  static Projection grouped(const GroupQuantized& g, torch::Tensor bias = {},
                            const torch::Device& device = torch::kCPU);

  torch::Tensor operator()(const torch::Tensor& x) const;
  bool defined() const { return weight_.defined() || codes_.defined(); }
  bool quantized() const { return codes_.defined(); }
  /// Bytes of parameters held: the float weight, or the integer codes with their scales and
  /// offsets; and the bias.
  int64_t weight_bytes() const;

 private:
  /// A dense float32 or bfloat16 projection of at most kGemvMaxRows rows on the CPU through
  /// gemv_f32/gemv_bf16; nullopt where those do not apply (the caller uses linear).
  std::optional<torch::Tensor> few_rows(const torch::Tensor& x) const;

  /// y for a grouped weight (see grouped()).
  torch::Tensor run_grouped(const torch::Tensor& x) const;
  GroupedWeight view() const;

  torch::Tensor weight_, bias_;
  // grouped(): GroupedWeight's arrays (scale_/offset_ or the four two-level ones, as scales_ says).
  torch::Tensor codes_, scale_, offset_, super_scale_, super_offset_, sub_scale_, sub_offset_;
  GroupedWeight::Scales scales_ = GroupedWeight::Scales::kHalf;
  int bits_ = 0;
  int64_t group_ = 32;
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
