// BACO's comparison methods (BACO §5 "Baselines", Appendix D; issue 19 part 2) and the router paper's
// prompting variants (its Figures 13–16), each as one library call.
//
// Every method takes the prompts and an options struct deriving from MethodOptions (n samples per
// prompt, max_new_tokens, seed, the SamplingOptions, on_progress) and returns a MethodResult whose
// samples are prompt-major (prompt p, sample i at p * n + i). Sample i of prompt p depends only on
// (seed, that prompt, i): draws come from make_generator(sample_seed(seed, prompt_key(ids)), i) as in
// generate(), so a prompt gets the same answers whatever other prompts share its batch.
//
// Two-model methods take the base and the aligned model as BacoDecoder does and render prompts as
// BACO does: the aligned model gets its chat template, the base model ChatTemplate::shifting() (the
// prompt and a newline), both replaceable. docs/methods.md gives each method's exact definition.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "breadth/answer_set.hpp"
#include "breadth/baco.hpp"
#include "breadth/baco_rules.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/progress.hpp"
#include "breadth/sampler.hpp"

namespace breadth {

class CausalLM;
class ChatTemplate;

// ------------------------------------------------------------------------------------ common types

/// What every method takes. Defaults are BACO Appendix D's: n = 10, T = 1.0, top-p = 0.9.
struct MethodOptions {
  SamplingOptions sampling{1.0, 0, 0.9, 0.0};
  int64_t num_samples = 10;        ///< n answers per prompt
  int64_t max_new_tokens = 256;    ///< per answer, EOS included
  uint64_t seed = 0;
  ProgressCallback on_progress;    ///< (work done, work total, method name); false cancels
};

/// Two-model methods: how each model's prompt is rendered (nullptr: the aligned model's own chat
/// template; ChatTemplate::shifting() for the base model, encoded with the base tokenizer's specials).
struct TwoModelOptions : MethodOptions {
  std::shared_ptr<const ChatTemplate> aligned_template, base_template;
};

struct MethodSample {
  int64_t prompt_index = 0;
  int64_t sample_index = 0;
  std::string text;                ///< the answer, special tokens skipped, EOS not included
  std::vector<int32_t> tokens;     ///< generated ids (EOS included when it ended the answer)
  FinishReason finish = FinishReason::kLength;
  /// Which model wrote it: "aligned", "base" (response ensemble), "mixed" (logit ensemble, NUDGING),
  /// or the single model's "model".
  std::string source;
  /// The user text this answer replies to when it is not the prompt itself: the paraphrase
  /// (paraphrase prompting), the follow-up turn (in-context resampling), the rendered prompt
  /// (verbalized, system-vanilla: the system text and the user turn, joined by a newline).
  std::string prompt_text;
  double score = 0.0;              ///< diverse beam search: the beam's final (penalized) score
};

struct MethodResult {
  std::string method;              ///< the kind name ("logit_ensemble", "nudging", ...)
  std::vector<MethodSample> samples;  ///< prompt-major: prompt p, sample i at p * n + i
  int64_t num_samples = 0;         ///< n
  int64_t generated_tokens = 0;    ///< summed over answers (and paraphrases / drafts where made)
  /// NUDGING only: the BACO decoder's provenance of every answer (p_base_max per token, which model
  /// wrote it and why), same order as `samples`.
  std::vector<BacoSample> provenance;
};

/// One point of a sweep: the swept value (temperature, w, threshold) and the result there.
struct MethodSweepPoint {
  double value = 0.0;
  MethodResult result;
};

/// A method's result with its samples converted from generate()'s (source names the model).
MethodResult to_method_result(std::string method, const GenerateResult& r, int64_t num_samples,
                              const std::string& source);

// ------------------------------------------------------------------------------------ single model

/// Plain sampling from one model with its chat template (generate() with these options).
MethodResult sample(const CausalLM& model, const std::vector<std::string>& prompts,
                    const MethodOptions& options);

/// The single-model baseline at several temperatures (BACO ①): one point per temperature, in the
/// order given, each sampled with options.sampling's other transforms on the same prompts and seeds.
std::vector<MethodSweepPoint> temperature_sweep(const CausalLM& model,
                                                const std::vector<std::string>& prompts,
                                                const std::vector<double>& temperatures,
                                                const MethodOptions& options);

// ------------------------------------------------------------------------------------ ensembles

struct LogitEnsembleOptions : TwoModelOptions {
  double w = 0.5;  ///< weight of the base model, in [0, 1]
};

/// Logit ensemble (BACO ④): every token is drawn from w·P_base + (1−w)·P_aligned (the models'
/// untempered softmax), passed through options.sampling's chain (temperature, top-k, top-p, min-p)
/// as logits log(mixture). Draws use the aligned prompt's generators, so w = 0 reproduces
/// sample(aligned) token for token; at w = 1 the mixture is exactly P_base. The answer ends at an EOS
/// id of either tokenizer. Needs a shared vocabulary: throws VocabularyMismatch otherwise.
MethodResult logit_ensemble(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                            const std::vector<std::string>& prompts, const LogitEnsembleOptions& options);
/// The same at each w (options.w ignored), in the order given.
std::vector<MethodSweepPoint> logit_ensemble_sweep(std::shared_ptr<const CausalLM> base,
                                                   std::shared_ptr<const CausalLM> aligned,
                                                   const std::vector<std::string>& prompts,
                                                   const std::vector<double>& ws,
                                                   const LogitEnsembleOptions& options);

/// Thrown when a method that passes token ids between two models gets models whose tokenizers differ
/// (an InvalidArgument: ErrorCode kInvalidArgument).
class VocabularyMismatch : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

struct ResponseEnsembleOptions : TwoModelOptions {
  double ratio = 0.5;  ///< share of the n answers drawn from the base model, in [0, 1]
};

/// The number of a prompt's n answers that response_ensemble draws from the base model:
/// round(ratio · n), halves rounded up.
int64_t response_ensemble_base_count(double ratio, int64_t n);

/// Response ensemble (BACO ④): of each prompt's n answers, the first k = response_ensemble_base_count
/// come from the base model (its samples 0..k-1, as sample(base) on the base prompt would draw them)
/// and the rest from the aligned model (its samples k..n-1), pooled in that order.
MethodResult response_ensemble(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                               const std::vector<std::string>& prompts,
                               const ResponseEnsembleOptions& options);

// ------------------------------------------------------------------------------------ NUDGING

struct NudgingOptions : TwoModelOptions {
  double threshold = 0.4;  ///< γ: the aligned model writes a word where the base top-1 prob is < γ
};

/// NUDGING's rule as a BACO rule (kNeedsBase): aligned where max P_base < γ, base otherwise.
RulePtr nudging_rule(double threshold);

/// NUDGING (Fei et al. 2025) run by BacoDecoder with nudging_rule: the base model drafts; at a token
/// where its top-1 probability is below the threshold the aligned model writes the next word (BACO's
/// invariant 2: the model that starts a word finishes it), then the base model continues; the first
/// word always comes from the aligned model (invariant 1). BACO's EOS invariant holds too: an answer
/// ends only at the aligned model's top-1 EOS. result.provenance holds every token's record.
MethodResult nudging(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                     const std::vector<std::string>& prompts, const NudgingOptions& options);
/// The same at each threshold (options.threshold ignored), in the order given.
std::vector<MethodSweepPoint> nudging_sweep(std::shared_ptr<const CausalLM> base,
                                            std::shared_ptr<const CausalLM> aligned,
                                            const std::vector<std::string>& prompts,
                                            const std::vector<double>& thresholds,
                                            const NudgingOptions& options);

// ------------------------------------------------------------------------------------ prompting

/// In-context resampling's follow-up user turn (docs/methods.md).
inline constexpr const char* kInContextFollowUp =
    "Give another answer to the same request, different from all of your previous answers.";

struct InContextOptions : MethodOptions {
  std::string follow_up = kInContextFollowUp;
  std::shared_ptr<const ChatTemplate> chat_template;  ///< nullptr: the model's own
};

/// The conversation in-context resampling renders before answer i (0-based) of `prompt`, given the
/// previous answers: user prompt, then for each previous answer an assistant turn and a user turn
/// with `follow_up`.
std::vector<ChatMessage> in_context_messages(const std::string& prompt,
                                             const std::vector<std::string>& previous_answers,
                                             const std::string& follow_up);

/// In-context resampling (BACO ②): a prompt's n answers are generated one after another in one
/// conversation (in_context_messages), answer i drawn with generator index i.
MethodResult in_context(const CausalLM& model, const std::vector<std::string>& prompts,
                        const InContextOptions& options);

/// Paraphrase prompting's instruction; "{prompt}" is replaced by the prompt (docs/methods.md).
inline constexpr const char* kParaphraseInstruction =
    "Paraphrase the following request. Keep its meaning and everything it asks for, but use different "
    "words. Reply with the paraphrased request only.\n\nRequest: {prompt}";

struct ParaphraseOptions : MethodOptions {
  std::string instruction = kParaphraseInstruction;  ///< must contain "{prompt}"
  int64_t paraphrase_max_new_tokens = 128;
  std::shared_ptr<const ChatTemplate> chat_template;  ///< nullptr: the model's own
};

/// The user turn asking for a paraphrase of `prompt`.
std::string paraphrase_request(const std::string& prompt, const std::string& instruction);
/// A generated paraphrase cleaned for use: surrounding whitespace trimmed; empty gives `prompt`.
std::string clean_paraphrase(const std::string& generated, const std::string& prompt);

/// Paraphrase prompting (BACO ②): the model writes n paraphrases of each prompt (sampled as
/// sample() would with seed `paraphrase_seed(seed)`), and answer i replies to paraphrase i (generator
/// index i). MethodSample::prompt_text holds the paraphrase.
MethodResult paraphrase(const CausalLM& model, const std::vector<std::string>& prompts,
                        const ParaphraseOptions& options);
/// The request seed of paraphrase prompting's paraphrases: a fixed mix of the request's seed.
uint64_t paraphrase_seed(uint64_t seed);

/// The router paper's system prompt for system_vanilla (Figure 15), verbatim.
inline constexpr const char* kSystemVanillaPrompt =
    "You are a helpful assistant. For each query, please generate all possible responses, each within "
    "a separate <response> tag. Responses should each include a <text>.";
/// ... and for system_verbalized_all (Figure 16), verbatim.
inline constexpr const char* kSystemVerbalizedPrompt =
    "You are a helpful assistant. For each query, please generate all possible responses, each within "
    "a separate <response> tag. Responses should each include a <text> and a numeric <probability>. "
    "Please sample at random from the full distribution.";

/// The user turn of "prompt verbalized all" (router paper Figure 13 for fixed-answer questions,
/// Figure 14 for open-ended ones), verbatim around the question.
std::string verbalized_prompt(const Question& question);

struct PromptVariantOptions : MethodOptions {
  /// One per prompt, for verbalized(): the question's kind and answer unit. Empty: every prompt is
  /// an open-ended question (Figure 14).
  std::vector<Question> questions;
  std::shared_ptr<const ChatTemplate> chat_template;  ///< nullptr: the model's own
};

/// Verbalized sampling ("prompt verbalized all"): n answers to verbalized_prompt of each prompt.
MethodResult verbalized(const CausalLM& model, const std::vector<std::string>& prompts,
                        const PromptVariantOptions& options);
/// System-vanilla: n answers to each prompt under the system prompt kSystemVanillaPrompt.
MethodResult system_vanilla(const CausalLM& model, const std::vector<std::string>& prompts,
                            const PromptVariantOptions& options);
/// The same under kSystemVerbalizedPrompt (Figure 16, the original verbalized-sampling prompt).
MethodResult system_verbalized(const CausalLM& model, const std::vector<std::string>& prompts,
                               const PromptVariantOptions& options);

// ------------------------------------------------------------------------------------ diverse beams

struct DiverseBeamOptions : MethodOptions {
  int64_t groups = 2;      ///< G; num_samples must be a multiple of it (n / G beams per group)
  double penalty = 0.5;    ///< λ, the Hamming diversity penalty (>= 0)
  std::shared_ptr<const ChatTemplate> chat_template;  ///< nullptr: the model's own
};

/// One step of diverse beam search over G groups of K beams (rows g*K .. g*K+K-1 are group g).
/// `logprobs` [G*K, V]: log P(v | beam) for live beams (ignored for finished ones); `scores` [G*K]
/// float64: each beam's score so far (-inf for a beam not yet in use); `finished[b]`: beam b ended.
/// Groups choose in order; group g's candidates are its live beams extended by every token v, scored
/// scores[b] + logprobs[b, v] − λ · (how many beams of groups 0..g−1 chose v at this step), and its
/// finished beams, carried with their score. Each group keeps its K best candidates (ties: lower beam,
/// then lower token first).
struct BeamStep {
  std::vector<int64_t> parents;   ///< [G*K] the beam each new beam extends
  std::vector<int32_t> tokens;    ///< [G*K] the token appended; -1 for a carried finished beam
  std::vector<double> scores;     ///< [G*K] the new beams' scores
};
BeamStep diverse_beam_step(const torch::Tensor& logprobs, const std::vector<double>& scores,
                           const std::vector<bool>& finished, int64_t groups, double penalty);

/// Diverse beam search (Vijayakumar et al. 2016; BACO ③) on one model, greedy by construction
/// (options.sampling and seed are unused): each prompt's n beams, group by group, best first within
/// a group; MethodSample::score is the beam's score (log-probabilities minus penalties, no length
/// normalization). A beam ends at an EOS id; finished beams keep their slot.
MethodResult diverse_beam(const CausalLM& model, const std::vector<std::string>& prompts,
                          const DiverseBeamOptions& options);

}  // namespace breadth
