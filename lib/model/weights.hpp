// Where a decoder's tensors come from. The decoder asks for tensors by their Hugging Face names and
// PyTorch shapes; a source maps that to its file format (safetensors shards, GGUF with llama.cpp
// names and quantized blocks) and hands back a fresh CPU tensor in the requested dtype.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace breadth::io {
class SafetensorsFile;
}

namespace breadth::model {

/// A matrix [N, K] stored in groups along K, each group an affine map of small integers:
/// w[n, k] = scale[n, k / group] * q[n, k] + offset[n, k / group]. ggml's Q2_K..Q6_K, Q4_0, Q4_1,
/// Q5_0, Q5_1 and Q8_0 are exactly this (io::split_groups); the decoder keeps such weights
/// quantized (Projection::grouped).
struct GroupQuantized {
  int bits = 4;          ///< 2..6: q in [0, 2^bits) (uint8); 8: q in [-128, 127] (int8)
  int64_t group = 32;    ///< elements per scale along K: 32, or 16 (GGUF's Q6_K, Q3_K, Q2_K)
  torch::Tensor q;       ///< [N, K] uint8 (bits < 8) or int8 (8 bits)
  torch::Tensor scale;   ///< [N, K / group] float32 (the file's values, exactly)
  torch::Tensor offset;  ///< [N, K / group] float32
  /// The same scales in two levels when the file stores them so (the K types; io::GroupFactors):
  /// scale = super_scale[n, k / 256] * sub_scale[n, k / group], offset = super_offset[...] *
  /// sub_offset[...] (sub_scale where sub_offset is undefined), each product exact. Undefined
  /// otherwise.
  torch::Tensor super_scale, super_offset;  ///< [N, K / 256] float32
  torch::Tensor sub_scale, sub_offset;      ///< [N, K / group] int8

  bool factored() const { return sub_scale.defined(); }
  /// The float32 matrix these integers and scales stand for.
  torch::Tensor dequantize() const;
};

/// Rows of [N, K] stacked in order (q/k/v, gate/up), in the widest of their forms (the most bits,
/// groups of 16 if any has 16, two-level scales only if every part has them; lossless). nullopt
/// when K differs.
std::optional<GroupQuantized> cat_rows(const std::vector<GroupQuantized>& parts);

/// A table of rows kept in its file's encoding (a GGUF tensor in the mapped file) and decoded a few
/// rows at a time: an embedding table read a handful of rows per step need not be expanded.
class EncodedRows {
 public:
  virtual ~EncodedRows() = default;
  virtual int64_t rows() const = 0;
  virtual int64_t cols() const = 0;
  /// out[i, :] = row ids[i] as float32, for `n` ids (each in [0, rows())).
  virtual void decode(const int64_t* ids, int64_t n, float* out) const = 0;
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool has(const std::string& name) const = 0;
  /// PyTorch-order shape of `name` (which must exist).
  virtual std::vector<int64_t> shape(const std::string& name) const = 0;
  /// A new CPU tensor holding `name` converted to `dtype`.
  virtual torch::Tensor load(const std::string& name, torch::ScalarType dtype) const = 0;
  /// "tensor 'x' (file y)" for error messages.
  virtual std::string describe(const std::string& name) const = 0;
  /// The checkpoint, for messages.
  virtual const std::string& origin() const = 0;
  /// `name` as integers and group scales when the file stores it in a GroupQuantized form (GGUF
  /// Q4_0, Q4_1, Q4_K, Q5_0, Q5_1, Q5_K, Q6_K, Q3_K, Q2_K, Q8_0), with the same rows `load` would
  /// give; nullopt otherwise.
  virtual std::optional<GroupQuantized> load_grouped(const std::string& name) const {
    (void)name;
    return std::nullopt;
  }
  /// `name`'s rows decoded on demand from the file (which the result keeps open) when the file
  /// stores them block-quantized; nullptr otherwise.
  virtual std::shared_ptr<const EncodedRows> encoded_rows(const std::string& name) const {
    (void)name;
    return nullptr;
  }
};

/// Safetensors of a Hugging Face directory: model.safetensors, or the shards listed by
/// model.safetensors.index.json. Throws IoError/FormatError.
std::unique_ptr<WeightSource> open_safetensors_dir(const std::string& dir);

/// The text tower of a multimodal checkpoint: `model.X` is read from `model.language_model.X`
/// (transformers 5) or `language_model.model.X` (earlier), `lm_head.weight` from `lm_head.weight` or
/// `language_model.lm_head.weight`. `inner` must outlive the result.
std::unique_ptr<WeightSource> text_tower_source(const WeightSource& inner);

/// A base model saved on its own (Qwen2Model, LlamaModel: `embed_tokens.weight`, `layers.N...`)
/// read under the `model.` names the decoder asks for; a *ForCausalLM checkpoint is read as is.
/// `inner` must outlive the result.
std::unique_ptr<WeightSource> base_model_source(const WeightSource& inner);

/// Loads and checks one tensor: FormatError naming the tensor and file when it is missing or its
/// shape differs from `expected`.
torch::Tensor load_checked(const WeightSource& src, const std::string& name,
                           const std::vector<int64_t>& expected, torch::ScalarType dtype);

}  // namespace breadth::model
