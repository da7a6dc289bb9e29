// Language models running natively in libtorch from checkpoints on disk.
//
// A CausalLM is loaded once and is immutable afterwards; all per-request state lives in a KvCache, so
// one model may serve several caches (and threads) at once.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "breadth/tokenizer.hpp"

namespace breadth {

/// How a GGUF file's quantized weights are held in memory.
enum class WeightFormat {
  /// As the file stores them where breadth has a kernel for the format: Q4_0, Q4_1, Q5_0, Q5_1,
  /// Q8_0 and Q2_K..Q6_K projections keep their integer codes and group scales, and compute in
  /// float32 what the expanded weights compute (each weight made as expanding makes it), at about
  /// the file's bytes; on the CPU a quantized embedding table stays in the mapped file and is decoded
  /// a row per token. On the CPU, and on CUDA in a CUDA build (there the embedding table is
  /// expanded; not yet run on a GPU); every other type, and every weight on other devices, is
  /// expanded to `dtype` (docs/runtime.md, "Quantized weights").
  kNative,
  /// Every weight expanded to `dtype` at load (the reference the native path is checked against).
  kFloat,
};
/// "native" or "float"; InvalidArgument otherwise, naming `what` ("--weights").
WeightFormat parse_weight_format(std::string_view name, std::string_view what = "weights");
const char* weight_format_name(WeightFormat format);

struct ModelOptions {
  torch::Device device = torch::kCPU;
  /// Weights and activations. float32 and bfloat16 on CPU; float16/bfloat16/float32 on CUDA.
  torch::ScalarType dtype = torch::kFloat32;
  /// Quantized GGUF weights stay quantized (native) or are expanded (float). Safetensors
  /// checkpoints are unaffected.
  WeightFormat weights = WeightFormat::kNative;
};

/// The names every face (CLI, C, Python, experiment files) gives dtypes and devices.
/// "float32" (or "float"), "bfloat16", "float16" (or "half"). InvalidArgument otherwise; `what` names
/// the value in the message ("--dtype", "models.base.dtype").
torch::ScalarType parse_dtype(std::string_view name, std::string_view what = "dtype");
/// "float32", "bfloat16", "float16"; the type's own name for others.
std::string dtype_name(torch::ScalarType dtype);
/// "cpu", "cuda" or "cuda:N". InvalidArgument otherwise, naming `what` (libtorch's own parse error
/// carries a C++ backtrace and accepts device types breadth does not run on).
torch::Device parse_device(std::string_view name, std::string_view what = "device");

/// Hyper-parameters read from config.json or GGUF metadata.
struct ModelConfig {
  std::string architecture;  ///< e.g. "LlamaForCausalLM", "Qwen3ForCausalLM"
  std::string family;        ///< "llama", "qwen2", "qwen3", "olmo2", "mistral", "gemma2", "gemma3"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_embeddings = false;
  int64_t num_labels = 0;  ///< > 0 for *ForSequenceClassification (a score head instead of lm_head)
};

struct KvCacheAccess;  // lib/model's access to a KvCache's state (model/kv_cache_state.hpp)

/// Keys and values of a batch of sequences. Rows are sequences; each row has its own length and
/// positions (padding columns are masked). Forking (select) copies the chosen rows, so a prompt is
/// prefilled once and decoded as n independent samples. Copies of a KvCache share its buffers.
/// The buffers are opaque: only the model implementation (lib/model) reads or writes them, so their
/// layout can change without touching this header or its users.
class KvCache {
 public:
  KvCache() = default;
  int64_t batch() const;
  /// Columns in use (the longest row, padding included).
  int64_t columns() const;
  /// Columns that fit before the buffers must grow (they grow by themselves when needed).
  int64_t capacity() const;
  /// Real (unpadded) tokens in each row, [B] int64 on the cache's device. Also the position the
  /// next real token of that row will get.
  const torch::Tensor& lengths() const;
  /// True until the first forward() (or new_cache()) gives the cache its buffers.
  bool empty() const { return state_ == nullptr; }
  /// A new cache whose row i is row `rows[i]` of this one (rows may repeat: n samples of one prompt).
  KvCache select(const torch::Tensor& rows) const;

 private:
  struct State;  // defined in lib/model/kv_cache_state.hpp
  std::shared_ptr<State> state_;
  friend struct KvCacheAccess;  // lib/model's one door to the state
};

struct ForwardOptions {
  /// Logits only at each row's last real token among the new ones: [B, V]; else [B, T, V]. A row
  /// with no real token in this call gets the (meaningless) logits of its last column.
  bool last_only = true;
  bool want_hidden = false;    ///< also return the final-norm hidden states at the same positions
  /// Throw NumericError when a logit is NaN/Inf. Costs one device->host sync per call.
  bool check_finite = false;
  /// A decode step whose shapes never change (what a CUDA graph can capture): one token per row on
  /// a prefilled cache with room left, attending to every column of the cache's capacity through
  /// its validity mask (an ordinary step attends to the written columns only), written at a column
  /// the cache counts on the device. Same logits as an ordinary step up to summation order.
  /// Not for rope types whose frequencies follow the longest position (dynamic, longrope).
  bool fixed_shape = false;
};

struct ForwardOutput {
  /// float32, [B, V] or [B, T, V]. For a *ForSequenceClassification checkpoint the "vocabulary" is
  /// the label set: [B, num_labels] scores (a reward model's scalar is [B, 1]).
  torch::Tensor logits;
  torch::Tensor hidden;  ///< model dtype, [B, H] or [B, T, H] when requested
};

/// Throws NumericError naming `what` when `t` holds a NaN or an infinity (one host sync).
void check_finite(const torch::Tensor& t, const std::string& what);

class CausalLM {
 public:
  virtual ~CausalLM() = default;

  /// Loads a Hugging Face directory (config.json + safetensors, sharded or not) or a GGUF file.
  /// Throws IoError, FormatError (corrupt/truncated), Unsupported (unknown architecture or quant),
  /// InvalidArgument (dtype/device not possible).
  static std::shared_ptr<CausalLM> load(const std::string& path, const ModelOptions& options = {});

  virtual const ModelConfig& config() const = 0;
  virtual torch::Device device() const = 0;
  virtual torch::ScalarType dtype() const = 0;
  /// Bytes of parameters held in memory: float tensors at their dtype, projections kept quantized
  /// (WeightFormat::kNative) at their integer codes and scales. An embedding table decoded from the
  /// mapped file row by row counts nothing (its pages belong to the file).
  virtual int64_t weight_bytes() const = 0;
  /// The tokenizer stored with the checkpoint (nullptr if the directory holds none).
  virtual std::shared_ptr<const Tokenizer> tokenizer() const = 0;

  /// An empty cache for `batch` rows that can grow to `capacity` columns without reallocating.
  virtual KvCache new_cache(int64_t batch, int64_t capacity) const = 0;

  /// Appends `ids` ([B, T] int64) to the cache. `valid` ([B, T] bool, optional) marks real tokens; a
  /// false entry is padding that is neither attended to nor advances that row's position.
  virtual ForwardOutput forward(KvCache& cache, const torch::Tensor& ids,
                                const torch::Tensor& valid = {},
                                const ForwardOptions& options = {}) const = 0;

  /// Convenience: prefill ragged prompts (left padded) into `cache` (new if empty); returns [B, V].
  torch::Tensor prefill(KvCache& cache, const std::vector<std::vector<int32_t>>& prompts) const;
  /// Convenience: one token per row ([B] int64); returns [B, V].
  torch::Tensor decode(KvCache& cache, const torch::Tensor& next_ids) const;
  /// Convenience for *ForSequenceClassification (reward) models: the score head at each sequence's
  /// last token, [B, num_labels] float32. Throws InvalidArgument for a plain causal LM.
  torch::Tensor score(const std::vector<std::vector<int32_t>>& sequences) const;

  /// config.json `architectures` values that load() accepts.
  static const std::vector<std::string>& supported_architectures();
};

}  // namespace breadth
