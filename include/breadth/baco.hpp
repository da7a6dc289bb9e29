// BACO: base–aligned token-level collaboration (SPEC §3; the BACO paper, §3 and Appendix A).
//
// Two causal LMs decode the same text: the base model sees the prompt and a newline (the plain
// shifting template), the aligned model its chat template. At each step a BACO rule
// (breadth/baco_rules.hpp) picks which model's candidate token is emitted; the token is appended to
// both contexts. The invariants of SPEC §3 always hold:
//   1. the first token comes from the aligned model;
//   2. switching only at word boundaries: the model that started a word finishes it;
//   3. EOS only when it is the aligned model's top-1 (a base EOS candidate hands the step to the
//      aligned model; an aligned EOS candidate that is not its top-1 is redrawn with EOS masked);
//   4. optionally a minimum length: a sample that ends shorter is regenerated, up to a retry budget.
//
// Lazy catch-up: a model's distribution is computed only at steps where a rule, an invariant or a
// provenance record needs it; the tokens it missed are fed later in one chunked forward pass. Draws
// depend only on which candidates the decision logic asks for, never on when forward passes run, so
// lazy and eager decoding emit the same tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "breadth/baco_rules.hpp"
#include "breadth/sampler.hpp"

namespace breadth {

class CausalLM;
class ChatTemplate;
class Tokenizer;

enum class TokenSource : uint8_t { kAligned = 0, kBase = 1 };
const char* token_source_name(TokenSource s);  ///< "aligned" / "base"

/// Why a token came from the model it came from.
enum class ChoiceReason : uint8_t {
  kRule,        ///< the BACO rule decided at a word boundary
  kFirstToken,  ///< invariant 1
  kInWord,      ///< invariant 2: the word's owner continued it (or the other model's candidate
                ///< would have continued the owner's word)
  kEosHandoff,  ///< invariant 3: the base candidate was EOS, so the aligned model took the step
};
const char* choice_reason_name(ChoiceReason r);
using RouteReason [[deprecated("use breadth::ChoiceReason")]] = ChoiceReason;
[[deprecated("use breadth::choice_reason_name")]] inline const char* route_reason_name(ChoiceReason r) {
  return choice_reason_name(r);
}

/// Provenance of one emitted token. Statistics are NaN and ids -1 for a model whose distribution
/// was not computed at that step (lazy decoding skips it when nothing needs it; set
/// BacoOptions::lazy = false to have all of them).
struct TokenRecord {
  int32_t id = -1;                 ///< in the vocabulary of the model that emitted it
  TokenSource source = TokenSource::kAligned;
  ChoiceReason reason = ChoiceReason::kRule;
  bool eos = false;                ///< the aligned model's accepted EOS (last token, empty text)
  std::string text;                ///< the bytes this token adds to the sample's text
  float p_base_max = NAN, p_aligned_max = NAN, h_base = NAN, h_aligned = NAN;
  int32_t base_candidate = -1, aligned_candidate = -1, aligned_top1 = -1;
  int32_t eos_redraws = 0;         ///< aligned EOS candidates redrawn at this step (invariant 3)
};

struct BacoSample {
  int64_t prompt_index = 0;
  int64_t sample_index = 0;        ///< first_sample_index + i
  std::vector<TokenRecord> tokens; ///< an accepted EOS is the last record
  std::string text;                ///< concatenation of the records' text
  FinishReason finish = FinishReason::kLength;
  int64_t retries = 0;             ///< regenerations for ending under min_new_tokens
  /// Tokens other than the final EOS.
  int64_t length() const;
  int64_t base_tokens() const;
  /// Positions i > 0 where tokens[i].source != tokens[i-1].source (EOS excluded).
  int64_t switches() const;
};

/// Base-model contribution and switching by position (BACO §6.1) over a set of samples.
struct BacoSummary {
  int64_t samples = 0;
  int64_t tokens = 0;              ///< EOS records excluded
  int64_t base_tokens = 0;
  double base_share = 0.0;         ///< base_tokens / tokens (0 when no tokens)
  int64_t switches = 0;
  double mean_length = 0.0;
  int64_t eos_finished = 0;        ///< samples that ended with the aligned model's EOS
  int64_t retries = 0;             ///< min-length regenerations over all samples
  /// Index i: over samples with more than i tokens, the share whose token i came from base,
  /// the share with a switch at i (i >= 1; 0 at i = 0), and how many samples that is.
  std::vector<double> base_share_by_position;
  std::vector<double> switch_rate_by_position;
  std::vector<int64_t> samples_by_position;
};
BacoSummary summarize(const std::vector<BacoSample>& samples);

/// Called after every emitted token: (row of the sample in the result, its record). Returning
/// false ends that sample (FinishReason::kCallback).
using BacoTokenCallback = std::function<bool(int64_t row, const TokenRecord& token)>;

/// Where a step's decisions are made. Both places emit the same tokens, records and random streams;
/// they differ in how often the host waits for the models' device.
enum class BacoStep : uint8_t {
  /// kResident where it applies and pays (a model on a GPU), kHostDriven otherwise.
  kAuto,
  /// The host reads candidates and routes as each decision needs them (several reads a step). Lazy
  /// decoding needs this: its host decisions are what let it skip a model's forward pass.
  kHostDriven,
  /// Candidates (with the redraws a step might need, drawn ahead from the same random streams), the
  /// rule and the word-boundary and EOS decisions all run on the device; the host reads the step's
  /// outcome once. Needs lazy = false, models sharing a vocabulary and a rule with reads_text()
  /// false; a request that asks for it otherwise is an error.
  kResident,
};

/// "auto", "host-driven" or "resident" (CLI, Python and experiment files); InvalidArgument naming
/// `what` otherwise.
BacoStep parse_baco_step(std::string_view name, std::string_view what = "step");
const char* baco_step_name(BacoStep step);

struct BacoOptions {
  /// Each model's candidate sampler (BACO Appendix D: T = 1.0, top-p = 0.9 for both).
  SamplingOptions base_sampling{1.0, 0, 0.9, 0.0};
  SamplingOptions aligned_sampling{1.0, 0, 0.9, 0.0};
  TransformChain base_transforms, aligned_transforms;  ///< user transforms after the standard chain
  int64_t num_samples = 10;        ///< n samples per prompt, decoded as one batch
  int64_t max_new_tokens = 256;    ///< EOS included
  /// The aligned model draws exactly as generate() with this seed would for the aligned prompt, so
  /// a rule that never routes to base reproduces aligned-only sampling token for token.
  uint64_t seed = 0;
  /// The base model's draws, as generate() with this seed on the base prompt. Default: a fixed
  /// mix of `seed`, so that the two models' draws are independent even for identical prompts.
  std::optional<uint64_t> base_seed;
  int64_t first_sample_index = 0;  ///< as GenerateOptions::first_sample_index
  /// Premature stop (BACO §6.2): a sample ending with EOS before this many tokens is regenerated,
  /// at most max_retries times (then kept as it is). 0 = off.
  int64_t min_new_tokens = 0;
  int64_t max_retries = 3;
  bool lazy = true;                ///< false: both models advance every step (full provenance)
  BacoStep step = BacoStep::kAuto;
  /// Benchmarks: EOS is masked from both models' draws, so every sample runs max_new_tokens.
  bool ignore_eos = false;
  /// Prompt rendering. Default: the aligned model's own chat template (one user turn plus the
  /// generation prompt), and for the base model ChatTemplate::shifting() (BACO Appendix A: the
  /// prompt followed by one newline). The base prompt is encoded with the base tokenizer's specials
  /// (e.g. BOS) as for raw text; e.g. ChatTemplate::from_format("Q: {prompt}\nA:") changes its text.
  std::shared_ptr<const ChatTemplate> aligned_template, base_template;
  BacoTokenCallback on_token;
  ProgressCallback on_progress;         ///< (tokens so far, most possible, "baco"); false cancels
};

struct BacoResult {
  std::vector<BacoSample> samples; ///< prompt-major: prompt p, sample i at p * n + i
  BacoSummary summary;
  std::string rule;                ///< the rule's name
  // Work done, for benchmarks and the lazy/eager comparison.
  int64_t steps = 0;               ///< decoding steps (one per emitted token position)
  int64_t base_forwards = 0, aligned_forwards = 0;      ///< forward calls after the prefill
  int64_t base_tokens_fed = 0, aligned_tokens_fed = 0;  ///< real tokens those calls processed
};

struct SweepPoint {
  double gamma = 0.0;
  BacoResult result;
};

class BacoDecoder {
 public:
  /// Both models must have tokenizers. When their vocabularies are identical (same size and the
  /// same bytes for every id) token ids pass directly; otherwise hand-off goes through text at word
  /// boundaries, re-tokenized for the receiving model. The models may be on different devices
  /// (CPU + GPU, two GPUs) and in different dtypes: each model's cache, logits and draws stay on its
  /// own device; the step's shared tensors (the rule's batch, routes, decisions) live on the aligned
  /// model's device (docs/baco.md, "Two devices").
  BacoDecoder(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned);

  bool shared_vocabulary() const { return shared_vocab_; }
  const CausalLM& base() const { return *base_; }
  const CausalLM& aligned() const { return *aligned_; }

  /// n samples for each prompt, all decoded as one batch.
  BacoResult generate(const std::vector<std::string>& prompts, const BacoRule& rule,
                      const BacoOptions& options) const;
  /// Same with a rule spec ("p-punc:0.3").
  BacoResult generate(const std::vector<std::string>& prompts, const std::string& rule_spec,
                      const BacoOptions& options) const;

  /// A γ sweep (BACO Fig. 1B, Table A13): the rule `rule_name` (no ":GAMMA") at each threshold on
  /// the same prompts and seeds. One point per threshold, in the order given.
  std::vector<SweepPoint> sweep(const std::vector<std::string>& prompts,
                                const std::string& rule_name, const std::vector<double>& gammas,
                                const BacoOptions& options) const;

  /// The prompt ids each model gets under `options` (BacoOptions::aligned_template and
  /// base_template, or their defaults: the chat template for aligned, shifting for base).
  std::vector<int32_t> aligned_prompt(const std::string& prompt, const BacoOptions& options) const;
  std::vector<int32_t> base_prompt(const std::string& prompt, const BacoOptions& options) const;

 private:
  std::shared_ptr<const CausalLM> base_, aligned_;
  std::shared_ptr<const Tokenizer> base_tok_, aligned_tok_;
  bool shared_vocab_ = false;
};

}  // namespace breadth
