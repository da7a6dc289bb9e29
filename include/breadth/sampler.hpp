// Sampling: logits transforms, seeded categorical draws and the batched generation loop.
//
// The pieces are small and pure so that other decoders (BACO's two-model loop) reuse them:
//   chain  = make_chain(options)            temperature -> top-k -> top-p -> min-p (+ user transforms)
//   logits = apply(chain, logits)           [B, V] in, [B, V] out; removed tokens are -inf
//   ids    = draw(logits, gens)             one categorical draw per row from that row's generator
// Randomness only ever comes from a generator the caller seeded (SPEC §2), one per sample, so that
// sample i of a batch equals sample i generated alone.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "breadth/progress.hpp"

namespace breadth {

class CausalLM;

// ------------------------------------------------------------------------------------ options

/// The standard transforms. Defaults leave the model's distribution untouched (router paper:
/// T = 1, top-p = 1); BACO uses top_p = 0.9.
struct SamplingOptions {
  double temperature = 1.0;  ///< >= 0; 0 means greedy (argmax, after any user transforms)
  int64_t top_k = 0;         ///< >= 0; 0 = off
  double top_p = 1.0;        ///< in (0, 1]; 1 = off
  double min_p = 0.0;        ///< in [0, 1); 0 = off

  /// Throws InvalidArgument naming the offending field.
  void validate() const;
  bool greedy() const { return temperature == 0.0; }
};

// ------------------------------------------------------------------------------------ transforms

/// One step of a logits-processing chain (like a llama.cpp sampler-chain stage). Input and output are
/// float logits [B, V] on any device; a transform removes a token by setting its logit to -inf and
/// must keep at least one token per row.
class LogitsTransform {
 public:
  virtual ~LogitsTransform() = default;
  virtual torch::Tensor apply(const torch::Tensor& logits) const = 0;
  virtual std::string name() const = 0;
};

using TransformChain = std::vector<std::shared_ptr<const LogitsTransform>>;

// Pure functions behind the standard transforms (each a no-op at its "off" value).
/// logits / t (t > 0).
torch::Tensor apply_temperature(const torch::Tensor& logits, double t);
/// Keeps the k highest logits per row; ties with the k-th value are kept too.
torch::Tensor apply_top_k(const torch::Tensor& logits, int64_t k);
/// Nucleus: keeps the smallest set of most probable tokens whose probability reaches p. Formally token
/// i is kept iff the mass of the tokens strictly more probable than it is < p, so ties at the
/// boundary are all kept and the result does not depend on sort order.
torch::Tensor apply_top_p(const torch::Tensor& logits, double p);
/// Keeps tokens whose probability is >= p * (the row's highest probability).
torch::Tensor apply_min_p(const torch::Tensor& logits, double p);

/// The standard chain for `options` (stages at their "off" value are left out, all of them for
/// greedy), followed by `extra` user transforms. Validates `options`.
TransformChain make_chain(const SamplingOptions& options, const TransformChain& extra = {});
/// Applies the chain in order.
torch::Tensor apply(const TransformChain& chain, const torch::Tensor& logits);

// ------------------------------------------------------------------------------------ draws

/// A splitmix64 mix of (seed, index): the seed of sample `index` of a request seeded `seed`.
uint64_t sample_seed(uint64_t seed, uint64_t index);
/// The key a prompt's token ids mix into the request seed (FNV-1a over the ids' 4-byte
/// little-endian images): generate() seeds sample i of prompt `ids` with
/// make_generator(sample_seed(seed, prompt_key(ids)), i).
uint64_t prompt_key(const std::vector<int32_t>& ids);
/// A CPU generator for sample `index` of request `seed`. Draws use one uniform per row per step taken
/// from these CPU generators whatever the model's device, so a seed means the same uniforms everywhere.
torch::Generator make_generator(uint64_t seed, uint64_t index);
/// Generators for samples first, first+1, ..., first+count-1.
std::vector<torch::Generator> make_generators(uint64_t seed, uint64_t first, int64_t count);

/// One categorical draw per row from softmax(logits) ([B, V] float, -inf = excluded), row i using
/// gens[i] (exactly one uniform from each). Inverse-CDF sampling: the same uniforms give the same ids
/// whatever the batch. Returns [B] int64 on the logits' device; -1 for a row with no valid
/// distribution (all -inf or NaN), which the caller must report (generate() throws NumericError).
torch::Tensor draw(const torch::Tensor& logits, std::vector<torch::Generator>& gens);
/// Same, for rows `rows` only: row b uses gens[rows[b]] (for batches that shrink as rows finish).
torch::Tensor draw(const torch::Tensor& logits, std::vector<torch::Generator>& gens,
                   const std::vector<int64_t>& rows);
/// argmax per row (first index on ties); [B] int64.
torch::Tensor greedy(const torch::Tensor& logits);

/// A chain plus the draw: what one decoding step needs.
class Sampler {
 public:
  explicit Sampler(SamplingOptions options = {}, TransformChain extra = {});
  const SamplingOptions& options() const { return options_; }
  const TransformChain& chain() const { return chain_; }
  /// The distribution tokens are drawn from, as logits ([B, V]).
  torch::Tensor transform(const torch::Tensor& logits) const;
  /// Next ids [B] for raw logits [B, V]: greedy, or a draw with gens[rows[b]] for row b (rows empty:
  /// row b uses gens[b]). `transformed`, when given, receives transform(logits).
  torch::Tensor sample(const torch::Tensor& logits, std::vector<torch::Generator>& gens,
                       const std::vector<int64_t>& rows = {},
                       torch::Tensor* transformed = nullptr) const;

 private:
  SamplingOptions options_;
  TransformChain chain_;
};

// ------------------------------------------------------------------------------------ generation

enum class FinishReason {
  kEos,       ///< the model produced one of the end-of-sequence ids (kept as the last token)
  kStop,      ///< a stop string appeared in the text (the text is cut before it)
  kLength,    ///< max_new_tokens reached
  kCallback,  ///< on_token returned false for this row
};
const char* finish_reason_name(FinishReason r);

/// Called for every generated token, EOS included: (sample row in the result, token id, newly
/// completed text). A row's last token also carries the bytes the UTF-8 decoder held back (invalid
/// ones as U+FFFD), so the pieces add up to Sample::text unless a stop string cut it. Returning false
/// stops that row.
using TokenCallback = std::function<bool(int64_t row, int32_t token, const std::string& piece)>;
/// The former name of ProgressCallback (breadth/progress.hpp).
using ProgressFn [[deprecated("use breadth::ProgressCallback")]] = ProgressCallback;

struct GenerateOptions {
  SamplingOptions sampling;
  TransformChain extra_transforms;      ///< user transforms appended after the standard chain
  int64_t num_samples = 1;              ///< n independent samples per prompt, decoded as one batch
  int64_t max_new_tokens = 256;
  uint64_t seed = 0;
  /// Sample i of a prompt uses make_generator(sample_seed(seed, prompt_key(prompt ids)),
  /// first_sample_index + i): identical alone or in any batch, independent across prompts, and a
  /// caller that asks again with a larger first_sample_index continues the stream with new samples.
  int64_t first_sample_index = 0;
  std::vector<std::string> stop_strings;
  bool stop_at_eos = true;              ///< stop at the tokenizer's eos_ids()
  std::vector<int32_t> extra_eos_ids;
  /// Render each prompt as one user turn with the model's chat template when it has one. false: the
  /// raw prompt, encoded with the tokenizer's special tokens (e.g. BOS) as transformers would.
  bool apply_chat_template = true;
  /// When the live rows fall to this fraction of the batch, the cache is compacted to them; above it
  /// finished rows ride along (their outputs are ignored).
  double shrink_fraction = 0.75;
  /// Decode with the fixed-shape step (ForwardOptions::fixed_shape) on the preallocated cache,
  /// captured once as a CUDA graph and replayed on a GPU; on the CPU the same step runs eagerly. The
  /// batch keeps its shape to the end (finished rows ride along; shrink_fraction is not used). Same
  /// tokens as without, up to summation order in attention.
  bool cuda_graph = false;
  TokenCallback on_token;
  ProgressCallback on_progress;               ///< (tokens generated so far, max possible, "generate")
};

struct Sample {
  int64_t prompt_index = 0;
  int64_t sample_index = 0;              ///< first_sample_index + i
  std::vector<int32_t> tokens;           ///< generated ids (EOS included when it ended the sample)
  std::string text;                      ///< decoded, special tokens skipped, stop string cut off
  /// log P(token | prefix) under the model's untempered distribution softmax(logits): what sequence
  /// likelihoods (semantic entropy) need. Same length as tokens.
  std::vector<float> logprobs;
  /// log of the probability the token was actually drawn with (after the transform chain; 0 for
  /// greedy).
  std::vector<float> sampling_logprobs;
  FinishReason finish = FinishReason::kLength;
  double sum_logprob() const;
};

struct GenerateResult {
  std::vector<Sample> samples;          ///< prompt-major: prompt p, sample i at p * n + i
  int64_t prompt_tokens = 0;            ///< summed over prompts (each prefilled once)
  int64_t generated_tokens = 0;         ///< summed over samples
  int64_t decode_steps = 0;
};

/// The token ids a prompt becomes for `model` under `options` (chat template or raw).
std::vector<int32_t> encode_prompt(const CausalLM& model, const std::string& prompt,
                                   bool apply_chat_template);

/// n samples for each prompt. Each prompt is prefilled once; its cache rows are forked n ways
/// (KvCache::select) and all samples of all prompts decode as one batch.
GenerateResult generate(const CausalLM& model, const std::vector<std::string>& prompts,
                        const GenerateOptions& options);
/// Same from token ids (no template, no special tokens added).
GenerateResult generate_ids(const CausalLM& model,
                            const std::vector<std::vector<int32_t>>& prompts,
                            const GenerateOptions& options);

}  // namespace breadth
