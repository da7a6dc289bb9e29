// breadth.Rule, breadth.BacoDecoder and BACO's results (provenance per token, summaries, sweeps).
#include <fmt/format.h>

#include <cmath>

#include "breadth/baco.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/model.hpp"
#include "breadth/baco_rules.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

/// A step as Python sees it: a copy, so a rule may keep it after returning.
struct PyStep {
  StepView v;
  std::string prompt, generated, base_text, aligned_text;
};

/// A rule and the error slots of the Python functions inside it (a cascade collects its stages').
struct PyRule {
  RulePtr rule;
  std::vector<std::shared_ptr<ErrorSlot>> slots;
};

Needs needs_of(const std::string& s) {
  if (s == "base") return kNeedsBase;
  if (s == "aligned") return kNeedsAligned;
  if (s == "both") return kNeedsBoth;
  throw InvalidArgument("needs must be 'base', 'aligned' or 'both', got '" + s + "'");
}

/// A Python function(step) -> 'base' | 'aligned' | bool (True = base) as a rule.
RulePtr python_rule(const std::string& name, const py::object& fn, Needs needs,
                    const std::shared_ptr<ErrorSlot>& slot) {
  PyRef f = hold(fn);
  return function_rule(
      name,
      [f, slot, name](const StepView& v) {
        return slot->call([&] {
          PyStep s{v, std::string(v.prompt), std::string(v.generated), std::string(v.base_candidate_text),
                   std::string(v.aligned_candidate_text)};
          py::object r = (*f)(s);
          if (py::isinstance<py::str>(r)) {
            auto t = r.cast<std::string>();
            if (t == "base") return BacoChoice::kBase;
            if (t == "aligned") return BacoChoice::kAligned;
          } else if (py::isinstance<py::bool_>(r)) {
            return r.cast<bool>() ? BacoChoice::kBase : BacoChoice::kAligned;
          }
          throw InvalidArgument("rule '" + name + "' returned " + py::repr(r).cast<std::string>() +
                                "; return 'base', 'aligned' or a bool (True = base)");
        });
      },
      needs);
}

/// A rule from a spec string, a Rule, or a Python callable; adds the slots its Python parts use.
RulePtr rule_of(const py::object& rule, std::vector<std::shared_ptr<ErrorSlot>>& slots) {
  if (py::isinstance<py::str>(rule)) return make_rule(rule.cast<std::string>());
  if (py::isinstance<PyRule>(rule)) {
    const auto& r = rule.cast<const PyRule&>();
    slots.insert(slots.end(), r.slots.begin(), r.slots.end());
    return r.rule;
  }
  if (PyCallable_Check(rule.ptr())) return python_rule("python", rule, kNeedsBoth, slots.front());
  throw InvalidArgument("rule must be a spec like 'p-punc:0.3', a breadth.Rule, or a callable(step)");
}

SamplingOptions sampling(double temperature, int64_t top_k, double top_p, double min_p) {
  SamplingOptions s{temperature, top_k, top_p, min_p};
  s.validate();
  return s;
}

struct BacoArgs {
  int64_t n, max_new_tokens, first_sample_index, min_new_tokens, max_retries;
  uint64_t seed;
  py::object base_seed;
  double temperature, top_p, min_p;
  int64_t top_k;
  py::object base_temperature, base_top_p;
  bool lazy;
  py::object base_template;
  std::string step;
};

// A format string ({prompt}, {system}) for the base model's prompt; None: the library's default.
std::shared_ptr<const ChatTemplate> base_template_of(const py::object& t) {
  if (t.is_none()) return nullptr;
  return ChatTemplate::from_format(t.cast<std::string>());
}

BacoOptions baco_options(const BacoArgs& a) {
  BacoOptions o;
  o.aligned_sampling = sampling(a.temperature, a.top_k, a.top_p, a.min_p);
  o.base_sampling = sampling(a.base_temperature.is_none() ? a.temperature : a.base_temperature.cast<double>(), a.top_k,
                             a.base_top_p.is_none() ? a.top_p : a.base_top_p.cast<double>(), a.min_p);
  o.num_samples = a.n;
  o.max_new_tokens = a.max_new_tokens;
  o.seed = a.seed;
  if (!a.base_seed.is_none()) o.base_seed = a.base_seed.cast<uint64_t>();
  o.first_sample_index = a.first_sample_index;
  o.min_new_tokens = a.min_new_tokens;
  o.max_retries = a.max_retries;
  o.lazy = a.lazy;
  o.base_template = base_template_of(a.base_template);
  o.step = parse_baco_step(a.step, "step");
  return o;
}

void attach(BacoOptions& o, const py::object& on_token, const py::object& bar, const std::shared_ptr<ErrorSlot>& slot) {
  if (!on_token.is_none()) {
    PyRef fn = hold(on_token);
    o.on_token = [fn, slot](int64_t row, const TokenRecord& t) {
      return slot->call([&] {
        py::object r = (*fn)(row, t);
        return r.is_none() || r.cast<bool>();
      });
    };
  }
  o.on_progress = progress_fn(bar, slot);
}

py::object num(float x) { return std::isnan(x) ? py::none() : py::object(py::float_(x)); }

// The library's defaults, which the keyword arguments show (never restated here).
const BacoOptions kBacoDefaults;

// The keyword arguments generate() and sweep() share, with their docs.
#define BACO_KWARGS                                                                                            \
  py::arg("n") = kBacoDefaults.num_samples, py::arg("max_new_tokens") = kBacoDefaults.max_new_tokens,          \
      py::arg("seed") = kBacoDefaults.seed, py::arg("base_seed") = py::none(),                                  \
      py::arg("temperature") = kBacoDefaults.aligned_sampling.temperature,                                      \
      py::arg("top_p") = kBacoDefaults.aligned_sampling.top_p, py::arg("top_k") = kBacoDefaults.aligned_sampling.top_k, \
      py::arg("min_p") = kBacoDefaults.aligned_sampling.min_p, py::arg("base_temperature") = py::none(),         \
      py::arg("base_top_p") = py::none(), py::arg("min_new_tokens") = kBacoDefaults.min_new_tokens,             \
      py::arg("max_retries") = kBacoDefaults.max_retries, py::arg("lazy") = kBacoDefaults.lazy,                 \
      py::arg("first_sample_index") = kBacoDefaults.first_sample_index, py::arg("on_token") = py::none(),       \
      py::arg("progress") = py::none(), py::arg("base_template") = py::none(),                                 \
      py::arg("step") = baco_step_name(kBacoDefaults.step)

const char* kOptionsDoc = R"doc(
Options: n samples per prompt; max_new_tokens (EOS included); seed (the aligned model draws as
Sampler.generate with this seed would) and base_seed; temperature/top_p/top_k/min_p for both models'
candidate samplers (BACO's defaults T=1, top-p=0.9), base_temperature/base_top_p to differ for the
base model; min_new_tokens/max_retries regenerate samples that stop early (BACO §6.2); lazy=False
computes both models' statistics at every step (full provenance); step: 'auto', 'host-driven' or
'resident' (with lazy=False, one host read per step; the same tokens). on_token(row, TokenRecord) streams
tokens (return False to end that sample); progress=True shows a tqdm bar, or give a
callable(done, total, label) that returns False to cancel. base_template: the base model's prompt as
a format string ({prompt}, {system}; e.g. "Question: {prompt}\nAnswer:"), None for the library's
default (the plain shifting template of BACO Appendix A, the prompt and a newline); the base
tokenizer's specials (e.g. BOS) are added as for raw text. The GIL is released while decoding.)doc";

}  // namespace

void bind_baco(py::module_& m) {
  py::class_<PyStep>(m, "StepView", "What a BACO rule sees at one step of one sample (a copy).")
      .def_property_readonly("has_base", [](const PyStep& s) { return s.v.has_base; })
      .def_property_readonly("has_aligned", [](const PyStep& s) { return s.v.has_aligned; })
      .def_property_readonly("p_base_max", [](const PyStep& s) { return s.v.p_base_max; },
                             "max of the base model's untempered softmax")
      .def_property_readonly("p_aligned_max", [](const PyStep& s) { return s.v.p_aligned_max; })
      .def_property_readonly("h_base", [](const PyStep& s) { return s.v.h_base; }, "entropy in nats")
      .def_property_readonly("h_aligned", [](const PyStep& s) { return s.v.h_aligned; })
      .def_property_readonly("base_candidate", [](const PyStep& s) { return s.v.base_candidate; })
      .def_property_readonly("aligned_candidate", [](const PyStep& s) { return s.v.aligned_candidate; })
      .def_property_readonly("aligned_top1", [](const PyStep& s) { return s.v.aligned_top1; })
      .def_property_readonly("base_candidate_punct", [](const PyStep& s) { return s.v.base_candidate_punct; })
      .def_property_readonly("base_candidate_function", [](const PyStep& s) { return s.v.base_candidate_function; })
      .def_property_readonly("aligned_top1_punct", [](const PyStep& s) { return s.v.aligned_top1_punct; })
      .def_property_readonly("aligned_top1_function", [](const PyStep& s) { return s.v.aligned_top1_function; })
      .def_property_readonly("u", [](const PyStep& s) { return s.v.u; }, "U(0,1) from the request's generator")
      .def_property_readonly("position", [](const PyStep& s) { return s.v.position; })
      .def_property_readonly("row", [](const PyStep& s) { return s.v.row; })
      .def_property_readonly("prompt", [](const PyStep& s) { return utf8(s.prompt); })
      .def_property_readonly("generated", [](const PyStep& s) { return utf8(s.generated); })
      .def_property_readonly("base_candidate_text", [](const PyStep& s) { return utf8(s.base_text); })
      .def_property_readonly("aligned_candidate_text", [](const PyStep& s) { return utf8(s.aligned_text); })
      .def("__repr__", [](const PyStep& s) {
        return fmt::format("StepView(position={}, p_base_max={:.3f}, p_aligned_max={:.3f}, h_base={:.3f}, "
                           "h_aligned={:.3f})",
                           s.v.position, s.v.p_base_max, s.v.p_aligned_max, s.v.h_base, s.v.h_aligned);
      });

  py::class_<PyRule>(m, "Rule", R"doc(
A BACO rule: which model's candidate is emitted at a word boundary.

>>> breadth.Rule("p-punc:0.3")                     # by name (see breadth.rule_names())
>>> breadth.Rule.cascade([breadth.Rule("punc"), breadth.Rule("h:2.0")])
>>> breadth.Rule.from_function("low-conf", lambda s: s.p_base_max < 0.4, needs="base")
)doc")
      .def(py::init([](const std::string& spec) { return PyRule{make_rule(spec), {}}; }), py::arg("spec"),
           "A rule from 'NAME[:GAMMA]', e.g. 'p-punc:0.3', 'rand:0.5', 'punc', or cascades 'X-Y' (Y first).")
      .def_static(
          "parse", [](const std::string& spec) { return PyRule{make_rule(spec), {}}; }, py::arg("spec"))
      .def_static(
          "from_function",
          [](const std::string& name, const py::object& fn, const std::string& needs) {
            // The rule's own slot keeps a Python exception until the decoder call that ran it raises it.
            auto slot = std::make_shared<ErrorSlot>();
            return PyRule{python_rule(name, fn, needs_of(needs), slot), {slot}};
          },
          py::arg("name"), py::arg("fn"), py::arg("needs") = "both",
          "A rule written in Python: fn(StepView) returns 'base', 'aligned' or a bool (True = base). needs "
          "('base', 'aligned', 'both') says which model's statistics it reads, so the decoder can skip the other.")
      .def_static(
          "cascade",
          [](const std::vector<PyRule>& stages, const std::string& name) {
            std::vector<RulePtr> r;
            std::vector<std::shared_ptr<ErrorSlot>> slots;
            for (const auto& s : stages) {
              r.push_back(s.rule);
              slots.insert(slots.end(), s.slots.begin(), s.slots.end());
            }
            return PyRule{cascade(std::move(r), name), slots};
          },
          py::arg("stages"), py::arg("name") = "",
          "Stages in order: one that routes to aligned decides; otherwise the next is asked.")
      .def_property_readonly("name", [](const PyRule& r) { return r.rule->name(); })
      .def("__repr__", [](const PyRule& r) { return "Rule('" + r.rule->name() + "')"; });
  m.def("rule_names", &rule_names, "Names make_rule knows (built-in and registered).");

  py::class_<TokenRecord>(m, "TokenRecord", "Provenance of one emitted token.")
      .def_readonly("id", &TokenRecord::id)
      .def_property_readonly("source", [](const TokenRecord& t) { return token_source_name(t.source); },
                             "'base' or 'aligned'")
      .def_property_readonly("reason", [](const TokenRecord& t) { return choice_reason_name(t.reason); })
      .def_readonly("eos", &TokenRecord::eos)
      .def_property_readonly("text", [](const TokenRecord& t) { return utf8(t.text); },
                             "The bytes this token adds (a character split across tokens shows as U+FFFD).")
      .def_property_readonly("raw", [](const TokenRecord& t) { return py::bytes(t.text); },
                             "The exact bytes this token adds (``b''.join`` over a sample equals ``sample.raw``).")
      .def_property_readonly("p_base_max", [](const TokenRecord& t) { return num(t.p_base_max); })
      .def_property_readonly("p_aligned_max", [](const TokenRecord& t) { return num(t.p_aligned_max); })
      .def_property_readonly("h_base", [](const TokenRecord& t) { return num(t.h_base); })
      .def_property_readonly("h_aligned", [](const TokenRecord& t) { return num(t.h_aligned); })
      .def_readonly("base_candidate", &TokenRecord::base_candidate)
      .def_readonly("aligned_candidate", &TokenRecord::aligned_candidate)
      .def_readonly("aligned_top1", &TokenRecord::aligned_top1)
      .def_readonly("eos_redraws", &TokenRecord::eos_redraws)
      .def("__repr__", [](const TokenRecord& t) {
        return fmt::format("TokenRecord(id={}, source='{}', reason='{}', text={})", t.id, token_source_name(t.source),
                           choice_reason_name(t.reason), short_repr(t.text));
      });

  py::class_<BacoSample>(m, "BacoSample", "One BACO sample with every token's provenance.")
      .def_readonly("prompt_index", &BacoSample::prompt_index)
      .def_readonly("sample_index", &BacoSample::sample_index)
      .def_readonly("tokens", &BacoSample::tokens)
      .def_property_readonly("text", [](const BacoSample& s) { return utf8(s.text); })
      .def_property_readonly("raw", [](const BacoSample& s) { return py::bytes(s.text); }, "The sample's exact bytes.")
      .def_property_readonly("finish", [](const BacoSample& s) { return finish_reason_name(s.finish); })
      .def_readonly("retries", &BacoSample::retries)
      .def_property_readonly("length", &BacoSample::length)
      .def_property_readonly("base_tokens", &BacoSample::base_tokens)
      .def_property_readonly("switches", &BacoSample::switches)
      .def_property_readonly("base_share",
                             [](const BacoSample& s) {
                               return s.length() ? double(s.base_tokens()) / double(s.length()) : 0.0;
                             })
      .def("__repr__", [](const BacoSample& s) {
        return fmt::format("BacoSample(tokens={}, base={}, switches={}, finish='{}', text={})", s.length(),
                           s.base_tokens(), s.switches(), finish_reason_name(s.finish), short_repr(s.text));
      });

  py::class_<BacoSummary>(m, "BacoSummary", "Base-model contribution and switching by position (BACO §6.1).")
      .def_readonly("samples", &BacoSummary::samples)
      .def_readonly("tokens", &BacoSummary::tokens)
      .def_readonly("base_tokens", &BacoSummary::base_tokens)
      .def_readonly("base_share", &BacoSummary::base_share)
      .def_readonly("switches", &BacoSummary::switches)
      .def_readonly("mean_length", &BacoSummary::mean_length)
      .def_readonly("eos_finished", &BacoSummary::eos_finished)
      .def_readonly("retries", &BacoSummary::retries)
      .def_readonly("base_share_by_position", &BacoSummary::base_share_by_position)
      .def_readonly("switch_rate_by_position", &BacoSummary::switch_rate_by_position)
      .def_readonly("samples_by_position", &BacoSummary::samples_by_position)
      .def("__repr__", [](const BacoSummary& s) {
        return fmt::format("BacoSummary(samples={}, tokens={}, base_share={:.3f}, switches={}, mean_length={:.1f})",
                           s.samples, s.tokens, s.base_share, s.switches, s.mean_length);
      });
  m.def("summarize", &summarize, py::arg("samples"), "A BacoSummary over any list of BacoSamples.");

  py::class_<BacoResult>(m, "BacoResult", "Samples of BacoDecoder.generate (prompt-major) with their summary.")
      .def_readonly("samples", &BacoResult::samples)
      .def_readonly("summary", &BacoResult::summary)
      .def_readonly("rule", &BacoResult::rule)
      .def_readonly("steps", &BacoResult::steps)
      .def_readonly("base_forwards", &BacoResult::base_forwards)
      .def_readonly("aligned_forwards", &BacoResult::aligned_forwards)
      .def_readonly("base_tokens_fed", &BacoResult::base_tokens_fed)
      .def_readonly("aligned_tokens_fed", &BacoResult::aligned_tokens_fed)
      .def_property_readonly("texts",
                             [](const BacoResult& r) {
                               py::list t;
                               for (const auto& s : r.samples) t.append(utf8(s.text));
                               return t;
                             })
      .def("__len__", [](const BacoResult& r) { return r.samples.size(); })
      .def("__repr__", [](const BacoResult& r) {
        return fmt::format("<breadth.BacoResult rule='{}' samples={} tokens={} base_share={:.3f}>", r.rule,
                           r.samples.size(), r.summary.tokens, r.summary.base_share);
      });

  py::class_<SweepPoint>(m, "SweepPoint")
      .def_readonly("gamma", &SweepPoint::gamma)
      .def_readonly("result", &SweepPoint::result)
      .def("__repr__", [](const SweepPoint& p) {
        return fmt::format("SweepPoint(gamma={}, base_share={:.3f}, samples={})", p.gamma, p.result.summary.base_share,
                           p.result.samples.size());
      });

  py::class_<BacoDecoder, std::shared_ptr<BacoDecoder>>(m, "BacoDecoder", R"doc(
BACO decoding: a base and an aligned model write each sample together, token by token. The base
model sees the prompt and a newline (base_template changes it), the aligned model its chat
template; a BACO rule picks which model's candidate is emitted at each word boundary. The two
models may be on different devices and dtypes (each Model keeps its own); the step is decided on
the aligned model's device.

>>> dec = breadth.BacoDecoder(base, aligned)
>>> two = breadth.BacoDecoder(breadth.Model(b, device="cpu"), breadth.Model(a, device="cuda"))
>>> res = dec.generate("Write a short poem about the sea.", rule="p-punc:0.3", n=4, max_new_tokens=64)
>>> res.summary.base_share, res.texts[0]
>>> res                                    # in a notebook: a table with base tokens highlighted
)doc")
      .def(py::init([](const std::shared_ptr<CausalLM>& base, const std::shared_ptr<CausalLM>& aligned) {
             if (!base || !aligned) throw InvalidArgument("BacoDecoder needs two models (base, aligned)");
             return std::make_shared<BacoDecoder>(base, aligned);
           }),
           py::arg("base"), py::arg("aligned"))
      .def_property_readonly("shared_vocabulary", &BacoDecoder::shared_vocabulary,
                             "True when ids pass directly; otherwise hand-off is through text at word boundaries.")
      .def(
          "generate",
          [](const BacoDecoder& d, const py::object& prompts, const py::object& rule, int64_t n, int64_t max_new_tokens,
             uint64_t seed, const py::object& base_seed, double temperature, double top_p, int64_t top_k, double min_p,
             const py::object& base_temperature, const py::object& base_top_p, int64_t min_new_tokens,
             int64_t max_retries, bool lazy, int64_t first_sample_index, const py::object& on_token,
             const py::object& progress, const py::object& base_template, const std::string& step) {
            auto texts = texts_of(prompts, "prompts");
            auto slot = std::make_shared<ErrorSlot>();
            std::vector<std::shared_ptr<ErrorSlot>> slots{slot};
            RulePtr r = rule_of(rule, slots);
            BacoOptions o = baco_options(BacoArgs{n, max_new_tokens, first_sample_index, min_new_tokens, max_retries,
                                                  seed, base_seed, temperature, top_p, min_p, top_k,
                                                  base_temperature, base_top_p, lazy, base_template, step});
            ProgressBar bar(progress, "baco");
            attach(o, on_token, bar.object(), slot);
            return run_without_gil(slots, [&] { return d.generate(texts, *r, o); });
          },
          py::arg("prompts"), py::arg("rule") = default_rule_spec(), BACO_KWARGS,
          (std::string("n samples for each prompt (a str or a list), all decoded as one batch. rule: a spec "
                       "('p-punc:0.3'), a breadth.Rule, or a callable(StepView) -> 'base'|'aligned'|bool.\n") +
           kOptionsDoc)
              .c_str())
      .def(
          "sweep",
          [](const BacoDecoder& d, const py::object& prompts, const std::string& rule, const std::vector<double>& gammas,
             int64_t n, int64_t max_new_tokens, uint64_t seed, const py::object& base_seed, double temperature,
             double top_p, int64_t top_k, double min_p, const py::object& base_temperature,
             const py::object& base_top_p, int64_t min_new_tokens, int64_t max_retries, bool lazy,
             int64_t first_sample_index, const py::object& on_token, const py::object& progress,
             const py::object& base_template, const std::string& step) {
            auto texts = texts_of(prompts, "prompts");
            auto slot = std::make_shared<ErrorSlot>();
            BacoOptions o = baco_options(BacoArgs{n, max_new_tokens, first_sample_index, min_new_tokens, max_retries,
                                                  seed, base_seed, temperature, top_p, min_p, top_k,
                                                  base_temperature, base_top_p, lazy, base_template, step});
            ProgressBar bar(progress, "sweep");
            attach(o, on_token, bar.object(), slot);
            return run_without_gil(slot, [&] { return d.sweep(texts, rule, gammas, o); });
          },
          py::arg("prompts"), py::arg("rule"), py::arg("gammas"), BACO_KWARGS,
          (std::string("A γ sweep (BACO Fig. 1B): the rule `rule` (a name without ':GAMMA', e.g. 'p-punc') at each "
                       "threshold on the same prompts and seeds; one SweepPoint per gamma.\n\n"
                       ">>> pts = dec.sweep(prompts, 'p', [0.0, 0.3, 0.6, 1.0], n=4, max_new_tokens=32)\n"
                       ">>> [round(p.result.summary.base_share, 2) for p in pts]\n") +
           kOptionsDoc)
              .c_str())
      .def(
          "aligned_prompt",
          [](const BacoDecoder& d, const std::string& prompt) { return d.aligned_prompt(prompt, BacoOptions{}); },
          py::arg("prompt"), "The ids the aligned model is prefilled with (its chat template).")
      .def(
          "base_prompt",
          [](const BacoDecoder& d, const std::string& prompt, const py::object& base_template) {
            BacoOptions o;
            o.base_template = base_template_of(base_template);
            return d.base_prompt(prompt, o);
          },
          py::arg("prompt"), py::arg("base_template") = py::none(),
          "The ids the base model is prefilled with: base_template (a format string with {prompt} and "
          "{system}) or, with None, the library's default (the prompt and a newline, BACO Appendix A).")
      .def("__repr__", [](const BacoDecoder& d) {
        return fmt::format("<breadth.BacoDecoder base={} aligned={} shared_vocabulary={}>", d.base().config().family,
                           d.aligned().config().family, d.shared_vocabulary() ? "True" : "False");
      });
}

}  // namespace breadth::python

