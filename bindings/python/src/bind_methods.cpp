// BACO's comparison methods (breadth/methods.hpp) as module functions: breadth.logit_ensemble,
// breadth.response_ensemble, breadth.nudging, breadth.in_context, breadth.paraphrase,
// breadth.diverse_beam, breadth.verbalized, breadth.system_vanilla, breadth.temperature_sweep, and the
// sweeps; each returns a MethodResult (or a list of MethodSweepPoint).
#include <fmt/format.h>

#include "breadth/chat_template.hpp"
#include "breadth/methods.hpp"
#include "breadth/model.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

using ModelPtr = std::shared_ptr<CausalLM>;

// The library's defaults, which the keyword arguments show (never restated here).
const MethodOptions kDefaults;

struct Common {
  int64_t n, max_new_tokens;
  uint64_t seed;
  double temperature, top_p;
  int64_t top_k;
  double min_p;
};

template <typename O>
O options_of(const Common& c) {
  O o;
  o.num_samples = c.n;
  o.max_new_tokens = c.max_new_tokens;
  o.seed = c.seed;
  o.sampling = SamplingOptions{c.temperature, c.top_k, c.top_p, c.min_p};
  return o;
}

void set_base_template(TwoModelOptions& o, const py::object& t) {
  if (!t.is_none()) o.base_template = ChatTemplate::from_format(t.cast<std::string>());
}

// Runs `f(options)` without the GIL with a progress bar labelled `label`.
template <typename O, typename F>
auto run(O o, const py::object& progress, const std::string& label, F&& f) {
  auto slot = std::make_shared<ErrorSlot>();
  ProgressBar bar(progress, label);
  o.on_progress = progress_fn(bar.object(), slot);
  return run_without_gil(slot, [&] { return f(o); });
}

ModelPtr need(const ModelPtr& m, const char* what) {
  if (!m) throw InvalidArgument(std::string(what) + " must be a breadth.Model, got None");
  return m;
}

#define COMMON_KWARGS                                                                                          \
  py::arg("n") = kDefaults.num_samples, py::arg("max_new_tokens") = kDefaults.max_new_tokens,                  \
      py::arg("seed") = kDefaults.seed, py::arg("temperature") = kDefaults.sampling.temperature,               \
      py::arg("top_p") = kDefaults.sampling.top_p, py::arg("top_k") = kDefaults.sampling.top_k,                \
      py::arg("min_p") = kDefaults.sampling.min_p, py::arg("progress") = py::none()
#define COMMON_PARAMS int64_t n, int64_t max_new_tokens, uint64_t seed, double temperature, double top_p, \
                      int64_t top_k, double min_p, const py::object& progress
#define COMMON_ARGS Common{n, max_new_tokens, seed, temperature, top_p, top_k, min_p}

constexpr const char* kCommonDoc =
    "\n\nn answers per prompt (prompt-major: prompt p, answer i at p * n + i); max_new_tokens per answer; "
    "seed (answer i of a prompt depends only on the seed, the prompt and i); temperature/top_p/top_k/min_p "
    "(defaults: BACO Appendix D, T = 1, top-p = 0.9); progress: True for a bar or a callable(done, total, label).";

std::string doc(const char* head) { return std::string(head) + kCommonDoc; }

}  // namespace

void bind_methods(py::module_& m) {
  py::class_<MethodSample>(m, "MethodSample", "One answer of a comparison method.")
      .def_readonly("prompt_index", &MethodSample::prompt_index)
      .def_readonly("sample_index", &MethodSample::sample_index)
      .def_property_readonly("text", [](const MethodSample& s) { return utf8(s.text); })
      .def_readonly("tokens", &MethodSample::tokens, "Generated ids (EOS included when it ended the answer).")
      .def_property_readonly("finish", [](const MethodSample& s) { return finish_reason_name(s.finish); })
      .def_readonly("source", &MethodSample::source, "'aligned', 'base', 'mixed' or 'model'.")
      .def_property_readonly("prompt_text", [](const MethodSample& s) { return utf8(s.prompt_text); },
                             "The text answered when it is not the prompt (paraphrase, follow-up, rendered prompt).")
      .def_readonly("score", &MethodSample::score, "diverse_beam: the beam's score.")
      .def("__repr__", [](const MethodSample& s) {
        return fmt::format("MethodSample(prompt={}, index={}, source='{}', tokens={}, text={})", s.prompt_index,
                           s.sample_index, s.source, s.tokens.size(), short_repr(s.text));
      });
  py::class_<MethodResult>(m, "MethodResult", "Answers of a comparison method, prompt-major.")
      .def_readonly("method", &MethodResult::method)
      .def_readonly("samples", &MethodResult::samples)
      .def_readonly("num_samples", &MethodResult::num_samples)
      .def_readonly("generated_tokens", &MethodResult::generated_tokens)
      .def_readonly("provenance", &MethodResult::provenance, "nudging: every answer's BacoSample (per-token records).")
      .def_property_readonly("texts",
                             [](const MethodResult& r) {
                               py::list l;
                               for (const auto& s : r.samples) l.append(utf8(s.text));
                               return l;
                             })
      .def("__len__", [](const MethodResult& r) { return r.samples.size(); })
      .def("__repr__", [](const MethodResult& r) {
        return fmt::format("<breadth.MethodResult method='{}' samples={} n={}>", r.method, r.samples.size(),
                           r.num_samples);
      });
  py::class_<MethodSweepPoint>(m, "MethodSweepPoint")
      .def_readonly("value", &MethodSweepPoint::value, "The swept value (temperature, w or threshold).")
      .def_readonly("result", &MethodSweepPoint::result)
      .def("__repr__", [](const MethodSweepPoint& p) {
        return fmt::format("MethodSweepPoint(value={}, samples={})", p.value, p.result.samples.size());
      });

  m.attr("IN_CONTEXT_FOLLOW_UP") = kInContextFollowUp;
  m.attr("PARAPHRASE_INSTRUCTION") = kParaphraseInstruction;
  m.attr("SYSTEM_VANILLA_PROMPT") = kSystemVanillaPrompt;
  m.attr("SYSTEM_VERBALIZED_PROMPT") = kSystemVerbalizedPrompt;

  m.def(
      "temperature_sweep",
      [](const ModelPtr& model, const py::object& prompts, const std::vector<double>& temperatures, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto mm = need(model, "model");
        return run(options_of<MethodOptions>(COMMON_ARGS), progress, "temperature_sweep",
                   [&](const MethodOptions& o) { return temperature_sweep(*mm, texts, temperatures, o); });
      },
      py::arg("model"), py::arg("prompts"), py::arg("temperatures"), COMMON_KWARGS,
      doc("The single-model baseline at each temperature (one MethodSweepPoint per temperature, in order).").c_str());

  const LogitEnsembleOptions kLogit;
  m.def(
      "logit_ensemble",
      [](const ModelPtr& base, const ModelPtr& aligned, const py::object& prompts, const py::object& w,
         const py::object& base_template, COMMON_PARAMS) -> py::object {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<LogitEnsembleOptions>(COMMON_ARGS);
        set_base_template(o, base_template);
        auto b = need(base, "base"), a = need(aligned, "aligned");
        if (py::isinstance<py::sequence>(w)) {
          auto ws = w.cast<std::vector<double>>();
          return py::cast(run(o, progress, "logit_ensemble", [&](const LogitEnsembleOptions& x) {
            return logit_ensemble_sweep(b, a, texts, ws, x);
          }));
        }
        o.w = w.cast<double>();
        return py::cast(run(o, progress, "logit_ensemble",
                            [&](const LogitEnsembleOptions& x) { return logit_ensemble(b, a, texts, x); }));
      },
      py::arg("base"), py::arg("aligned"), py::arg("prompts"), py::arg("w") = kLogit.w,
      py::arg("base_template") = py::none(), COMMON_KWARGS,
      doc("Logit ensemble: each token drawn from w·P_base + (1−w)·P_aligned (shared vocabulary required; "
          "InvalidArgumentError otherwise). w: a float, or a list of floats for a sweep (a list of "
          "MethodSweepPoint). w = 0 is aligned sampling token for token. base_template: a format string with "
          "{prompt} for the base model's prompt (default: the prompt and a newline).")
          .c_str());

  const ResponseEnsembleOptions kResponse;
  m.def(
      "response_ensemble",
      [](const ModelPtr& base, const ModelPtr& aligned, const py::object& prompts, double ratio,
         const py::object& base_template, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<ResponseEnsembleOptions>(COMMON_ARGS);
        o.ratio = ratio;
        set_base_template(o, base_template);
        auto b = need(base, "base"), a = need(aligned, "aligned");
        return run(o, progress, "response_ensemble",
                   [&](const ResponseEnsembleOptions& x) { return response_ensemble(b, a, texts, x); });
      },
      py::arg("base"), py::arg("aligned"), py::arg("prompts"), py::arg("ratio") = kResponse.ratio,
      py::arg("base_template") = py::none(), COMMON_KWARGS,
      doc("Response ensemble: of each prompt's n answers the first round(ratio·n) from the base model, the rest "
          "from the aligned model, pooled in that order.")
          .c_str());

  const NudgingOptions kNudging;
  m.def(
      "nudging",
      [](const ModelPtr& base, const ModelPtr& aligned, const py::object& prompts, const py::object& threshold,
         const py::object& base_template, COMMON_PARAMS) -> py::object {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<NudgingOptions>(COMMON_ARGS);
        set_base_template(o, base_template);
        auto b = need(base, "base"), a = need(aligned, "aligned");
        if (py::isinstance<py::sequence>(threshold)) {
          auto ts = threshold.cast<std::vector<double>>();
          return py::cast(run(o, progress, "nudging", [&](const NudgingOptions& x) {
            return nudging_sweep(b, a, texts, ts, x);
          }));
        }
        o.threshold = threshold.cast<double>();
        return py::cast(run(o, progress, "nudging", [&](const NudgingOptions& x) { return nudging(b, a, texts, x); }));
      },
      py::arg("base"), py::arg("aligned"), py::arg("prompts"), py::arg("threshold") = kNudging.threshold,
      py::arg("base_template") = py::none(), COMMON_KWARGS,
      doc("NUDGING (Fei et al. 2025): the base model drafts; where its top-1 probability is below threshold the "
          "aligned model writes the next word; the first word is the aligned model's. threshold: a float or a list "
          "(a sweep). result.provenance holds each token's record.")
          .c_str());

  const InContextOptions kInContext;
  m.def(
      "in_context",
      [](const ModelPtr& model, const py::object& prompts, const std::string& follow_up, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<InContextOptions>(COMMON_ARGS);
        o.follow_up = follow_up;
        auto mm = need(model, "model");
        return run(o, progress, "in_context", [&](const InContextOptions& x) { return in_context(*mm, texts, x); });
      },
      py::arg("model"), py::arg("prompts"), py::arg("follow_up") = kInContext.follow_up, COMMON_KWARGS,
      doc("In-context resampling: the n answers one after another in one conversation, each later turn asking "
          "follow_up (default breadth.IN_CONTEXT_FOLLOW_UP).")
          .c_str());

  const ParaphraseOptions kParaphrase;
  m.def(
      "paraphrase",
      [](const ModelPtr& model, const py::object& prompts, const std::string& instruction,
         int64_t paraphrase_max_new_tokens, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<ParaphraseOptions>(COMMON_ARGS);
        o.instruction = instruction;
        o.paraphrase_max_new_tokens = paraphrase_max_new_tokens;
        auto mm = need(model, "model");
        return run(o, progress, "paraphrase", [&](const ParaphraseOptions& x) { return paraphrase(*mm, texts, x); });
      },
      py::arg("model"), py::arg("prompts"), py::arg("instruction") = kParaphrase.instruction,
      py::arg("paraphrase_max_new_tokens") = kParaphrase.paraphrase_max_new_tokens, COMMON_KWARGS,
      doc("Paraphrase prompting: the model writes n paraphrases of each prompt with `instruction` ('{prompt}' "
          "marks the prompt; default breadth.PARAPHRASE_INSTRUCTION); answer i replies to paraphrase i "
          "(MethodSample.prompt_text).")
          .c_str());

  const DiverseBeamOptions kBeam;
  m.def(
      "diverse_beam",
      [](const ModelPtr& model, const py::object& prompts, int64_t groups, double penalty, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto o = options_of<DiverseBeamOptions>(COMMON_ARGS);
        o.groups = groups;
        o.penalty = penalty;
        auto mm = need(model, "model");
        return run(o, progress, "diverse_beam",
                   [&](const DiverseBeamOptions& x) { return diverse_beam(*mm, texts, x); });
      },
      py::arg("model"), py::arg("prompts"), py::arg("groups") = kBeam.groups, py::arg("penalty") = kBeam.penalty,
      COMMON_KWARGS,
      doc("Diverse beam search (Vijayakumar et al. 2016): n beams in `groups` groups with the Hamming diversity "
          "penalty `penalty`; deterministic (sampling arguments and seed unused).")
          .c_str());

  auto prompt_variant = [&m](const char* name, MethodResult (*fn)(const CausalLM&, const std::vector<std::string>&,
                                                                  const PromptVariantOptions&),
                             const char* head) {
    m.def(
        name,
        [fn, name](const ModelPtr& model, const py::object& prompts, COMMON_PARAMS) {
          auto texts = texts_of(prompts, "prompts");
          auto mm = need(model, "model");
          return run(options_of<PromptVariantOptions>(COMMON_ARGS), progress, name,
                     [&](const PromptVariantOptions& x) { return fn(*mm, texts, x); });
        },
        py::arg("model"), py::arg("prompts"), COMMON_KWARGS, doc(head).c_str());
  };
  m.def(
      "verbalized",
      [](const ModelPtr& model, const py::object& prompts, const std::string& kind, const std::string& item,
         const std::string& items, COMMON_PARAMS) {
        auto texts = texts_of(prompts, "prompts");
        auto mm = need(model, "model");
        auto o = options_of<PromptVariantOptions>(COMMON_ARGS);
        Question q;
        q.kind = parse_question_kind(kind, "kind");
        q.item = item;
        q.items = items;
        o.questions.assign(texts.size(), q);
        return run(o, progress, "verbalized", [&](const PromptVariantOptions& x) { return verbalized(*mm, texts, x); });
      },
      py::arg("model"), py::arg("prompts"), py::arg("kind") = "open", py::arg("item") = Question{}.item,
      py::arg("items") = Question{}.items, COMMON_KWARGS,
      doc("Verbalized sampling: n answers to each prompt under the router paper's 'prompt verbalized all' "
          "(Figure 14 for kind='open', Figure 13 for kind='fixed' with item/items naming the answer unit, e.g. "
          "'day'/'days'; breadth.verbalized_prompt shows the text).")
          .c_str());
  prompt_variant("system_vanilla", &system_vanilla,
                 "System-vanilla: n answers to each prompt under the router paper's Figure 15 system prompt "
                 "(breadth.SYSTEM_VANILLA_PROMPT).");
  prompt_variant("system_verbalized", &system_verbalized,
                 "System-verbalized-all: the same under Figure 16's system prompt (breadth.SYSTEM_VERBALIZED_PROMPT).");
  m.def(
      "verbalized_prompt",
      [](const std::string& question, const std::string& kind, const std::string& item, const std::string& items) {
        Question q;
        q.text = question;
        q.kind = parse_question_kind(kind, "kind");
        q.item = item;
        q.items = items;
        return verbalized_prompt(q);
      },
      py::arg("question"), py::arg("kind") = "open", py::arg("item") = Question{}.item,
      py::arg("items") = Question{}.items,
      "The 'prompt verbalized all' user turn: Figure 13 for kind='fixed' (item/items name the answer unit, e.g. "
      "'day'/'days'), Figure 14 for kind='open'.");
}

}  // namespace breadth::python

