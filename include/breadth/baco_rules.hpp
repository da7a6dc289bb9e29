// BACO rules: at each decoding step, which model's candidate token is emitted (SPEC §3; the paper
// calls them routing rules; breadth keeps "router" for the query router of breadth/router.hpp).
//
// A rule is a pure function of a step's view: both models' statistics (from the untempered softmax),
// the candidates, the aligned model's top-1 token, token classes, and a uniform number from the
// request's generator. Rules decide all rows of a step at once on tensors (`decide`); a rule written
// for one row at a time (`decide_one`, or `function_rule`) gets a loop for free, over StepViews
// made from one host copy of the batch (StepBatch::views).
//
// Rules are asked with partial information first (lazy catch-up, see BacoDecoder): a statistic of a
// model whose distribution was not computed is NaN, its tokens are -1 and `has_base`/`has_aligned` is
// false. A rule returns BacoChoice::kUndecided for a row it cannot decide without the missing model; the
// decoder then computes it and asks again with full information, where kUndecided is an error.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace breadth {

/// Which model emits a token (`w_base` of BACO Eq. 2). kUndecided only as an answer to a partial view.
enum class BacoChoice : int8_t { kAligned = 0, kBase = 1, kUndecided = -1 };

/// Which models' distributions a rule looks at first, as bit flags. Rules with a cheap first stage
/// (`p` reads only the base model) let the decoder skip the other model's forward pass on many steps.
enum Needs : uint8_t { kNeedsNothing = 0, kNeedsBase = 1, kNeedsAligned = 2, kNeedsBoth = 3 };

/// One row of a step. Statistics are NaN and ids -1 where `has_*` is false.
struct StepView {
  bool has_base = false, has_aligned = false;
  float p_base_max = NAN, p_aligned_max = NAN;  ///< max of softmax(logits) at temperature 1
  float h_base = NAN, h_aligned = NAN;          ///< entropy of the same, natural log
  int32_t base_candidate = -1;     ///< drawn by the base model's sampler (base vocabulary)
  int32_t aligned_candidate = -1;  ///< drawn by the aligned model's sampler (aligned vocabulary)
  int32_t aligned_top1 = -1;       ///< argmax of the aligned distribution
  bool base_candidate_punct = false;     ///< punctuation/formatting (TokenClasses::is_punctuation)
  bool base_candidate_function = false;  ///< starts a function word
  bool aligned_top1_punct = false;
  bool aligned_top1_function = false;
  double u = 0.0;                  ///< U(0,1) from the request's routing generator, fresh each step
  int64_t position = 0;            ///< index of the token being decided in its sample (0 = first)
  int64_t row = 0;                 ///< row in the decoder's batch
  // Text for rules that read it (judge). Views into the decoder's state, valid during the call.
  std::string_view prompt;          ///< the user's prompt, untemplated
  std::string_view generated;       ///< text emitted so far in this sample
  std::string_view base_candidate_text, aligned_candidate_text;
};

/// All rows of a step under decision plus their text. The decoder cuts the tensors ([R] each) from
/// the statistics where it computed them, so they live on the models' device; a rule's tensor ops
/// run there, and the rule's routes come back to the host once per ask.
struct StepBatch {
  torch::Tensor has_base, has_aligned;                            ///< bool
  torch::Tensor p_base_max, p_aligned_max, h_base, h_aligned;     ///< float32
  torch::Tensor base_candidate, aligned_candidate, aligned_top1;  ///< int64
  torch::Tensor base_candidate_punct, base_candidate_function;    ///< bool
  torch::Tensor aligned_top1_punct, aligned_top1_function;        ///< bool
  torch::Tensor u;                                                ///< float64
  torch::Tensor position, row;                                    ///< int64
  std::vector<std::string_view> prompt, generated, base_candidate_text, aligned_candidate_text;

  int64_t size() const { return p_base_max.defined() ? p_base_max.size(0) : 0; }
  /// Where the tensors live (the CPU for an empty batch).
  torch::Device device() const { return p_base_max.defined() ? p_base_max.device() : torch::kCPU; }
  /// Every row as a StepView, from one host copy of each column (texts empty when the vectors are).
  std::vector<StepView> views() const;
  /// Row `i` in [0, size()) as a StepView; for many rows, views() copies once instead of per row.
  StepView view(int64_t i) const;
  /// Packs views into tensors on the CPU (tests, and rules that build sub-batches).
  static StepBatch from_views(const std::vector<StepView>& views);
  /// The rows whose index is in `idx` ([K] integer, on any device), on this batch's device.
  StepBatch select(const torch::Tensor& idx) const;
};

class BacoRule {
 public:
  virtual ~BacoRule() = default;
  /// The name the registry knows it by, with its threshold (e.g. "p-punc:0.3").
  virtual std::string name() const = 0;
  /// What the rule reads first; the decoder fills that in before the first `decide`.
  virtual Needs first_needs() const { return kNeedsBoth; }
  /// Routes of all rows: [R] with BacoChoice values (int8, or any integer type; any device). The
  /// default calls decide_one on each of step.views() and answers on the CPU.
  virtual torch::Tensor decide(const StepBatch& step) const;
  /// One row. Rules overriding `decide` need not override this (the default calls decide on one row).
  virtual BacoChoice decide_one(const StepView& view) const;
  /// False for a rule whose `decide` reads only the batch's tensors (no text, no views) and decides
  /// each row from that row alone: the decoder may then ask it about every row of a step on the
  /// device, masking out rows it does not concern, and read the step once (BacoStep::kResident).
  /// Every built-in rule but the judge qualifies; the default is the safe answer for user rules.
  virtual bool reads_text() const { return true; }
};

using RulePtr = std::shared_ptr<const BacoRule>;

// The names before 0.2 (when "routing" meant both BACO's per-token choice and the query router).
using RoutingRule [[deprecated("use breadth::BacoRule")]] = BacoRule;
using Route [[deprecated("use breadth::BacoChoice")]] = BacoChoice;

/// Logit rules of SPEC §3 (route to base when the condition holds).
RulePtr rand_rule(double gamma);   ///< u < γ
RulePtr p_rule(double gamma);      ///< max P_b < γ
RulePtr p_a_rule(double gamma);    ///< max P_a < γ
RulePtr h_rule(double gamma);      ///< H(P_b) > γ
RulePtr h_a_rule(double gamma);    ///< H(P_a) > γ
RulePtr pr_rule(double gamma);     ///< max P_b / max P_a < γ
RulePtr hr_rule(double gamma);     ///< H(P_b) / H(P_a) > γ; when H(P_a) = 0: base iff H(P_b) > 0
/// Content rules: `punc` routes to aligned when the aligned top-1 or the base candidate is
/// punctuation/formatting, `fc` when the aligned top-1 starts a function word; otherwise base.
RulePtr punc_rule();
RulePtr fc_rule();
/// Routes every step to one model (tests, and a building block for users).
RulePtr constant_rule(BacoChoice route);

/// Stages in order: a stage that routes to aligned decides; otherwise the next stage is asked; the
/// last stage's answer stands. `cascade({punc_rule(), p_rule(0.3)})` is BACO's -P-PUNC.
RulePtr cascade(std::vector<RulePtr> stages, std::string name = "");

/// A user rule over one row. `needs` tells the decoder what the function reads; it is only called
/// once that information is present, so it never sees a partial view it did not ask for.
RulePtr function_rule(std::string name, std::function<BacoChoice(const StepView&)> fn,
                      Needs needs = kNeedsBoth);

/// BACO's -JUDGE: an external aligned model (the callback) says whether the continuation may diverge
/// here and whether the base candidate is acceptable; both yes routes to base.
struct JudgeVerdict {
  bool may_diverge = false;
  bool base_acceptable = false;
};
using JudgeCallback = std::function<JudgeVerdict(const StepView&)>;
RulePtr judge_rule(JudgeCallback judge);

// --------------------------------------------------------------------------------------- registry

/// Makes a rule for a threshold; content rules ignore it.
using RuleFactory = std::function<RulePtr(double gamma)>;

/// Registers `name` so that make_rule finds it; `takes_gamma` says whether a spec must give a
/// threshold. Names are letters, digits and '_' ('-' composes cascades). Replaces an earlier user
/// rule of that name; built-in names cannot be replaced. Thread-safe.
void register_rule(const std::string& name, RuleFactory factory, bool takes_gamma = true);
/// Names known to make_rule: the built-ins and registered rules.
std::vector<std::string> rule_names();

/// Builds a rule from "NAME[:GAMMA]". NAME is a registered name or "X-Y": the cascade that checks Y
/// first and falls back to X (BACO's notation; "p-punc", "h-fc", or compositions like "p-fc-punc",
/// which checks punc, then fc, then p). Rules that need a threshold and get none throw.
/// Throws InvalidArgument naming the unknown part and listing the known names.
RulePtr make_rule(const std::string& spec);
/// Same with the threshold given apart (γ sweeps); a ":GAMMA" in `name` is an error here.
RulePtr make_rule(const std::string& name, double gamma);
/// A rule from a spec and an optional threshold given apart (a face's --rule and --gamma): the
/// threshold goes in once, in the spec or apart. InvalidArgument naming `gamma_option` when it is
/// given twice or a rule that needs one gets none.
RulePtr make_rule(const std::string& spec, std::optional<double> gamma, std::string_view gamma_option);

/// The rule the faces use when the caller names none: BACO's -P-PUNC (punctuation and formatting
/// from the aligned model, base where its top-1 probability is under γ) ...
inline constexpr const char* kDefaultRule = "p-punc";
/// ... at γ = 0.3, where the paper's Figure 1B curve turns.
inline constexpr double kDefaultGamma = 0.3;
/// "p-punc:0.3".
std::string default_rule_spec();

}  // namespace breadth
