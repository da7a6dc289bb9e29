// Where a decoder's tensors come from. The decoder asks for tensors by their Hugging Face names and
// PyTorch shapes; a source maps that to its file format (safetensors shards, GGUF with llama.cpp
// names and quantized blocks) and hands back a fresh CPU tensor in the requested dtype.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace breadth::io {
class SafetensorsFile;
}

namespace breadth::model {

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
