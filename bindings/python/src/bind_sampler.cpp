// breadth.Sampler (generation, answer sets), its results, and the answer parsers.
#include <fmt/format.h>

#include <map>

#include "breadth/answer_set.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

QuestionKind kind_of(const std::string& s) { return parse_question_kind(s, "kind"); }

// The library's defaults, which the keyword arguments show (never restated here).
const SamplingOptions kSampling;
const GenerateOptions kGenerate;
const AnswerSetOptions kAnswerSet;
const Question kQuestion;

/// The Python-facing sampler: transform settings, plus generation and answer-set collection.
struct PySampler {
  SamplingOptions options;
};

GenerateOptions generate_options(const PySampler& s, int64_t n, int64_t max_new_tokens, uint64_t seed,
                                 int64_t first_sample_index, const std::vector<std::string>& stop,
                                 bool stop_at_eos, bool chat) {
  GenerateOptions g;
  g.sampling = s.options;
  g.num_samples = n;
  g.max_new_tokens = max_new_tokens;
  g.seed = seed;
  g.first_sample_index = first_sample_index;
  g.stop_strings = stop;
  g.stop_at_eos = stop_at_eos;
  g.apply_chat_template = chat;
  return g;
}

void attach_callbacks(GenerateOptions& g, const py::object& on_token, const py::object& bar,
                      const std::shared_ptr<ErrorSlot>& slot) {
  if (!on_token.is_none()) {
    PyRef fn = hold(on_token);
    g.on_token = [fn, slot](int64_t row, int32_t token, const std::string& piece) {
      return slot->call([&] {
        py::object r = (*fn)(row, token, utf8(piece));
        return r.is_none() || r.cast<bool>();
      });
    };
  }
  g.on_progress = progress_fn(bar, slot);
}

std::string sample_repr(const Sample& s) {
  return fmt::format("Sample(prompt={}, index={}, tokens={}, finish='{}', text={})", s.prompt_index, s.sample_index,
                     s.tokens.size(), finish_reason_name(s.finish), short_repr(s.text));
}

}  // namespace

void bind_sampler(py::module_& m) {
  py::class_<Sample>(m, "Sample", "One generated sample.")
      .def_readonly("prompt_index", &Sample::prompt_index)
      .def_readonly("sample_index", &Sample::sample_index)
      .def_readonly("tokens", &Sample::tokens, "Generated ids (EOS included when it ended the sample).")
      .def_readonly("text", &Sample::text, "Decoded text, special tokens skipped, stop string cut off.")
      .def_readonly("logprobs", &Sample::logprobs, "log P(token | prefix) under the untempered model.")
      .def_readonly("sampling_logprobs", &Sample::sampling_logprobs,
                    "log of the probability each token was drawn with (after the transforms).")
      .def_property_readonly("finish", [](const Sample& s) { return finish_reason_name(s.finish); },
                             "'eos', 'stop', 'length' or 'callback'.")
      .def_property_readonly("sum_logprob", &Sample::sum_logprob, "Sequence log-likelihood.")
      .def("__repr__", &sample_repr);

  py::class_<GenerateResult>(m, "Generation", "Samples of Sampler.generate, prompt-major (prompt p, sample i at p*n+i).")
      .def_readonly("samples", &GenerateResult::samples)
      .def_readonly("prompt_tokens", &GenerateResult::prompt_tokens)
      .def_readonly("generated_tokens", &GenerateResult::generated_tokens)
      .def_readonly("decode_steps", &GenerateResult::decode_steps)
      .def_property_readonly("texts",
                             [](const GenerateResult& r) {
                               std::vector<std::string> t;
                               for (const auto& s : r.samples) t.push_back(s.text);
                               return t;
                             })
      .def("__len__", [](const GenerateResult& r) { return r.samples.size(); })
      .def("__getitem__",
           [](const GenerateResult& r, int64_t i) {
             const int64_t n = static_cast<int64_t>(r.samples.size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw py::index_error("sample index out of range");
             return r.samples[static_cast<size_t>(i)];
           })
      .def("__repr__", [](const GenerateResult& r) {
        return fmt::format("<breadth.Generation {} samples, {} generated tokens>", r.samples.size(), r.generated_tokens);
      });

  py::class_<Answer>(m, "Answer")
      .def_readonly("text", &Answer::text)
      .def_readonly("model", &Answer::model, "Index of the model it came from.")
      .def_readonly("generation", &Answer::generation)
      .def("__repr__", [](const Answer& a) { return fmt::format("Answer(model={}, text={})", a.model, short_repr(a.text)); });
  py::class_<ModelAnswers>(m, "ModelAnswers")
      .def_readonly("target", &ModelAnswers::target)
      .def_readonly("collected", &ModelAnswers::collected)
      .def_readonly("generations", &ModelAnswers::generations)
      .def_readonly("failed_generations", &ModelAnswers::failed_generations)
      .def_readonly("generated_tokens", &ModelAnswers::generated_tokens)
      .def_readonly("failures", &ModelAnswers::failures)
      .def_property_readonly(
          "parsed_by",
          [](const ModelAnswers& a) {
            std::map<std::string, int64_t> d;
            for (size_t p = 0; p < kAnswerParserCount; ++p)
              d[answer_parser_name(static_cast<AnswerParser>(p))] = a.parsed_by[p];
            return d;
          },
          "Generations by the reader that gave their answers: json, braces, list, line; none = failed.")
      .def("__repr__", [](const ModelAnswers& a) {
        return fmt::format("ModelAnswers(collected={}/{}, generations={}, failed={})", a.collected, a.target,
                           a.generations, a.failed_generations);
      });
  py::class_<AnswerSet>(m, "AnswerSet", "Answers collected from one or more models (model 0's first).")
      .def_readonly("answers", &AnswerSet::answers)
      .def_readonly("models", &AnswerSet::models)
      .def_readonly("complete", &AnswerSet::complete, "Every model reached its share of the budget.")
      .def_property_readonly("texts",
                             [](const AnswerSet& s) {
                               std::vector<std::string> t;
                               for (const auto& a : s.answers) t.push_back(a.text);
                               return t;
                             })
      .def("__len__", [](const AnswerSet& s) { return s.answers.size(); })
      .def("__repr__", [](const AnswerSet& s) {
        return fmt::format("<breadth.AnswerSet {} answers from {} models{}>", s.answers.size(), s.models.size(),
                           s.complete ? "" : " (incomplete)");
      });

  py::class_<ParsedAnswers>(m, "ParsedAnswers")
      .def_readonly("answers", &ParsedAnswers::answers)
      .def_readonly("failure", &ParsedAnswers::failure)
      .def_readonly("notes", &ParsedAnswers::notes)
      .def_property_readonly(
          "parser", [](const ParsedAnswers& p) { return std::string(answer_parser_name(p.parser)); },
          "Which reading gave the answers: json, braces, list (the bulleted/numbered fallback), line, none.")
      .def_property_readonly("ok", &ParsedAnswers::ok)
      .def("__repr__", [](const ParsedAnswers& p) {
        return fmt::format("ParsedAnswers({} answers{})", p.answers.size(),
                           p.failure.empty() ? "" : ", failure=" + short_repr(p.failure));
      });

  m.def(
      "parse_answers", [](const std::string& text, const std::string& kind) { return parse_answers(text, kind_of(kind)); },
      py::arg("text"), py::arg("kind") = "open",
      R"doc(Answers parsed out of one generation: `{a, b}` lists (kind='fixed') or `"content": "..."`
objects (kind='open'). Never raises: an unreadable text gives no answers and a `failure` reason.

>>> breadth.parse_answers("{Monday, Friday}", kind="fixed").answers
['Monday', 'Friday']

Without the requested JSON, an open-ended reply's bulleted or numbered list is read (parser 'list').)doc");
  m.def(
      "answer_prompt",
      [](const std::string& question, const std::string& strategy, const std::string& kind, const std::string& item,
         const std::string& items) {
        Question q;
        q.text = question;
        q.kind = kind_of(kind);
        q.item = item;
        q.items = items;
        return answer_prompt(q, parse_strategy(strategy));
      },
      py::arg("question"), py::arg("strategy") = "all", py::arg("kind") = "open", py::arg("item") = "answer",
      py::arg("items") = "answers", "The user turn an answer-set strategy sends (the router paper's Figures 7-12).");
  m.def("split_budget", &split_budget, py::arg("budget"), py::arg("n_models"), py::arg("ratios") = std::vector<double>{},
        "Shares of the budget per model (largest remainders; they add up to budget).");

  py::class_<PySampler>(m, "Sampler", R"doc(
Sampling settings (temperature -> top-k -> top-p -> min-p, then a seeded draw) and the calls that use
them: n samples per prompt, and answer sets collected until a budget B is met.

>>> s = breadth.Sampler(temperature=1.0, top_p=0.9)
>>> g = s.generate(lm, "Name a colour.", n=4, max_new_tokens=16, seed=1)
>>> [x.text for x in g.samples]
>>> answers = s.answer_set([lm], "Name a colour.", budget=20)
)doc")
      .def(py::init([](double temperature, int64_t top_k, double top_p, double min_p) {
             PySampler s;
             s.options = SamplingOptions{temperature, top_k, top_p, min_p};
             s.options.validate();
             return s;
           }),
           py::arg("temperature") = kSampling.temperature, py::arg("top_k") = kSampling.top_k,
           py::arg("top_p") = kSampling.top_p, py::arg("min_p") = kSampling.min_p)
      .def_property_readonly("temperature", [](const PySampler& s) { return s.options.temperature; })
      .def_property_readonly("top_k", [](const PySampler& s) { return s.options.top_k; })
      .def_property_readonly("top_p", [](const PySampler& s) { return s.options.top_p; })
      .def_property_readonly("min_p", [](const PySampler& s) { return s.options.min_p; })
      .def(
          "transform", [](const PySampler& s, const torch::Tensor& logits) { return Sampler(s.options).transform(logits); },
          py::arg("logits"), "The logits [B, V] tokens are drawn from (removed tokens are -inf).")
      .def(
          "generate",
          [](const PySampler& s, const std::shared_ptr<CausalLM>& model, const py::object& prompts, int64_t n,
             int64_t max_new_tokens, uint64_t seed, int64_t first_sample_index, const std::vector<std::string>& stop,
             bool stop_at_eos, bool chat, const py::object& on_token, const py::object& progress, bool cuda_graph) {
            if (!model) throw InvalidArgument("model is None");
            auto texts = texts_of(prompts, "prompts");
            auto g = generate_options(s, n, max_new_tokens, seed, first_sample_index, stop, stop_at_eos, chat);
            g.cuda_graph = cuda_graph;
            auto slot = std::make_shared<ErrorSlot>();
            ProgressBar bar(progress, "generate");
            attach_callbacks(g, on_token, bar.object(), slot);
            return run_without_gil(slot, [&] { return generate(*model, texts, g); });
          },
          py::arg("model"), py::arg("prompts"), py::arg("n") = kGenerate.num_samples,
          py::arg("max_new_tokens") = kGenerate.max_new_tokens, py::arg("seed") = kGenerate.seed,
          py::arg("first_sample_index") = kGenerate.first_sample_index, py::arg("stop") = kGenerate.stop_strings,
          py::arg("stop_at_eos") = kGenerate.stop_at_eos, py::arg("chat") = kGenerate.apply_chat_template,
          py::arg("on_token") = py::none(),
          py::arg("progress") = py::none(), py::arg("cuda_graph") = kGenerate.cuda_graph,
          R"doc(n samples for each prompt (a str or a list of str), all decoded as one batch.

chat=True renders each prompt with the model's chat template (when it has one). Sample i of a prompt
is the same alone or in any batch for a given seed. on_token(row, token_id, text_piece) is called
for every token; returning False ends that sample. progress: True for a tqdm bar, or a
callable(done, total, label) returning False to cancel. cuda_graph=True decodes with the fixed-shape
step, captured as a CUDA graph on a GPU (the same tokens). The GIL is released while generating.

>>> g = breadth.Sampler(top_p=0.9).generate(lm, ["Name a colour."], n=3, max_new_tokens=8, seed=0)
>>> len(g.samples)
3)doc")
      .def(
          "answer_set",
          [](const PySampler& s, const py::object& models, const std::string& question, const std::string& kind,
             const std::string& strategy, int64_t budget, const std::vector<double>& ratios, int64_t batch,
             int64_t max_generations, int64_t max_new_tokens, uint64_t seed, bool chat, const std::string& item,
             const std::string& items, const py::object& progress) {
            std::vector<std::shared_ptr<const CausalLM>> ms;
            if (py::isinstance<CausalLM>(models)) ms.push_back(models.cast<std::shared_ptr<CausalLM>>());
            else
              for (auto h : models) ms.push_back(h.cast<std::shared_ptr<CausalLM>>());
            Question q;
            q.text = question;
            q.kind = kind_of(kind);
            q.item = item;
            q.items = items;
            AnswerSetOptions a;
            a.strategy = parse_strategy(strategy);
            a.budget = budget;
            a.ratios = ratios;
            a.batch = batch;
            a.max_generations = max_generations;
            a.generation = generate_options(s, 1, max_new_tokens, seed, 0, {}, true, chat);
            auto slot = std::make_shared<ErrorSlot>();
            ProgressBar bar(progress, "answers");
            a.generation.on_progress = progress_fn(bar.object(), slot);
            return run_without_gil(slot, [&] { return collect_answers(ms, q, a); });
          },
          py::arg("models"), py::arg("question"), py::arg("kind") = question_kind_name(kQuestion.kind),
          py::arg("strategy") = strategy_name(kAnswerSet.strategy), py::arg("budget") = kAnswerSet.budget,
          py::arg("ratios") = kAnswerSet.ratios, py::arg("batch") = kAnswerSet.batch,
          py::arg("max_generations") = kAnswerSet.max_generations,
          py::arg("max_new_tokens") = kAnswerSet.generation.max_new_tokens, py::arg("seed") = kAnswerSet.generation.seed,
          py::arg("chat") = kAnswerSet.generation.apply_chat_template, py::arg("item") = kQuestion.item,
          py::arg("items") = kQuestion.items, py::arg("progress") = py::none(),
          R"doc(Asks each model (a Model or a list) for answers until B = budget are collected.

strategy: 'one', 'two' or 'all' (the router paper's generate-one/-two/-all prompts); kind: 'open'
(JSON-like answer objects) or 'fixed' ({a, b} lists, with item/items naming the unit). The budget is
shared by `ratios` (equal by default); each model gets a retry budget of max_generations.

>>> aset = breadth.Sampler().answer_set([lm1, lm2], "Name a fruit.", budget=10, max_new_tokens=64)
>>> aset.texts[:3])doc")
      .def("__repr__", [](const PySampler& s) {
        return fmt::format("Sampler(temperature={}, top_k={}, top_p={}, min_p={})", s.options.temperature,
                           s.options.top_k, s.options.top_p, s.options.min_p);
      });
}

}  // namespace breadth::python

