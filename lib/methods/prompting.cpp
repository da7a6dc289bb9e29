// Prompting baselines: in-context resampling and paraphrase prompting (BACO §5 ②), and the router
// paper's verbalized / system prompts (its Figures 13–16).
#include <fmt/format.h>

#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "methods/internal.hpp"

namespace breadth {
namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void check_prompts(const std::vector<std::string>& prompts, const std::string& method) {
  BREADTH_CHECK_ARG(!prompts.empty(), "{}: give at least one prompt", method);
}

// n answers per prompt to the conversations `convs` (one per prompt), as generate() would draw them.
MethodResult answer_conversations(const CausalLM& model, const std::vector<std::vector<ChatMessage>>& convs,
                                  const std::vector<std::string>& shown, const PromptVariantOptions& o,
                                  const std::string& method) {
  std::vector<std::vector<int32_t>> ids;
  for (const auto& c : convs) ids.push_back(methods::encode_messages(model, c, o.chat_template, method));
  auto g = methods::generate_options(o);
  g.on_progress = methods::stage_progress(o.on_progress, method, 0, 1);
  auto out = to_method_result(method, generate_ids(model, ids, g), o.num_samples, "model");
  for (auto& s : out.samples) s.prompt_text = shown[static_cast<size_t>(s.prompt_index)];
  return out;
}

MethodResult system_prompted(const CausalLM& model, const std::vector<std::string>& prompts,
                             const PromptVariantOptions& o, const std::string& method, const char* system) {
  methods::validate(o, method);
  check_prompts(prompts, method);
  std::vector<std::vector<ChatMessage>> convs;
  std::vector<std::string> shown;
  for (const auto& p : prompts) {
    convs.push_back({{"system", system}, {"user", p}});
    shown.push_back(std::string(system) + "\n" + p);
  }
  return answer_conversations(model, convs, shown, o, method);
}

}  // namespace

// ------------------------------------------------------------------------------------ in-context

std::vector<ChatMessage> in_context_messages(const std::string& prompt,
                                             const std::vector<std::string>& previous_answers,
                                             const std::string& follow_up) {
  std::vector<ChatMessage> m{{"user", prompt}};
  for (const auto& a : previous_answers) {
    m.push_back({"assistant", a});
    m.push_back({"user", follow_up});
  }
  return m;
}

MethodResult in_context(const CausalLM& model, const std::vector<std::string>& prompts,
                        const InContextOptions& o) {
  methods::validate(o, "in_context");
  check_prompts(prompts, "in_context");
  BREADTH_CHECK_ARG(!trim(o.follow_up).empty(), "in_context: options.follow_up must not be empty");
  const auto P = static_cast<int64_t>(prompts.size());
  const int64_t n = o.num_samples;
  MethodResult out;
  out.method = "in_context";
  out.num_samples = n;
  out.samples.resize(static_cast<size_t>(P * n));
  std::vector<std::vector<std::string>> answers(static_cast<size_t>(P));
  for (int64_t i = 0; i < n; ++i) {
    // Turn i of every prompt's conversation, one batch; answer i uses generator index i.
    std::vector<std::vector<int32_t>> ids;
    for (int64_t p = 0; p < P; ++p)
      ids.push_back(methods::encode_messages(
          model, in_context_messages(prompts[static_cast<size_t>(p)], answers[static_cast<size_t>(p)], o.follow_up),
          o.chat_template, "in_context"));
    auto g = methods::generate_options(o);
    g.num_samples = 1;
    g.first_sample_index = i;
    g.on_progress = methods::stage_progress(o.on_progress, "in_context", i, n);
    auto r = generate_ids(model, ids, g);
    out.generated_tokens += r.generated_tokens;
    for (int64_t p = 0; p < P; ++p) {
      auto& src = r.samples[static_cast<size_t>(p)];
      auto& s = out.samples[static_cast<size_t>(p * n + i)];
      s.prompt_index = p;
      s.sample_index = i;
      s.text = src.text;
      s.tokens = std::move(src.tokens);
      s.finish = src.finish;
      s.source = "model";
      s.prompt_text = i == 0 ? prompts[static_cast<size_t>(p)] : o.follow_up;
      answers[static_cast<size_t>(p)].push_back(src.text);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------ paraphrase

uint64_t paraphrase_seed(uint64_t seed) { return seed ^ 0x9A4A94A5E0000001ULL; }

std::string paraphrase_request(const std::string& prompt, const std::string& instruction) {
  const auto at = instruction.find("{prompt}");
  BREADTH_CHECK_ARG(at != std::string::npos,
                    "paraphrase: options.instruction must contain '{{prompt}}' where the prompt goes, got '{}'",
                    instruction);
  std::string out = instruction;
  out.replace(at, 8, prompt);
  return out;
}

std::string clean_paraphrase(const std::string& generated, const std::string& prompt) {
  auto t = trim(generated);
  return t.empty() ? prompt : t;
}

MethodResult paraphrase(const CausalLM& model, const std::vector<std::string>& prompts,
                        const ParaphraseOptions& o) {
  methods::validate(o, "paraphrase");
  check_prompts(prompts, "paraphrase");
  BREADTH_CHECK_ARG(o.paraphrase_max_new_tokens >= 1,
                    "paraphrase: options.paraphrase_max_new_tokens must be >= 1, got {}", o.paraphrase_max_new_tokens);
  const auto P = static_cast<int64_t>(prompts.size());
  const int64_t n = o.num_samples;
  // n paraphrases per prompt, sampled in one batch.
  std::vector<std::vector<int32_t>> req;
  for (const auto& p : prompts)
    req.push_back(methods::encode_messages(model, {{"user", paraphrase_request(p, o.instruction)}},
                                           o.chat_template, "paraphrase"));
  auto g = methods::generate_options(o);
  g.seed = paraphrase_seed(o.seed);
  g.max_new_tokens = o.paraphrase_max_new_tokens;
  g.on_progress = methods::stage_progress(o.on_progress, "paraphrase", 0, n + 1);
  auto para = generate_ids(model, req, g);
  MethodResult out;
  out.method = "paraphrase";
  out.num_samples = n;
  out.generated_tokens = para.generated_tokens;
  out.samples.resize(static_cast<size_t>(P * n));
  // Answer i of every prompt replies to its paraphrase i, with generator index i.
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::vector<int32_t>> ids;
    std::vector<std::string> texts;
    for (int64_t p = 0; p < P; ++p) {
      texts.push_back(clean_paraphrase(para.samples[static_cast<size_t>(p * n + i)].text,
                                       prompts[static_cast<size_t>(p)]));
      ids.push_back(methods::encode_messages(model, {{"user", texts.back()}}, o.chat_template, "paraphrase"));
    }
    auto ga = methods::generate_options(o);
    ga.num_samples = 1;
    ga.first_sample_index = i;
    ga.on_progress = methods::stage_progress(o.on_progress, "paraphrase", i + 1, n + 1);
    auto r = generate_ids(model, ids, ga);
    out.generated_tokens += r.generated_tokens;
    for (int64_t p = 0; p < P; ++p) {
      auto& src = r.samples[static_cast<size_t>(p)];
      auto& s = out.samples[static_cast<size_t>(p * n + i)];
      s.prompt_index = p;
      s.sample_index = i;
      s.text = src.text;
      s.tokens = std::move(src.tokens);
      s.finish = src.finish;
      s.source = "model";
      s.prompt_text = texts[static_cast<size_t>(p)];
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------ router paper

std::string verbalized_prompt(const Question& q) {
  BREADTH_CHECK_ARG(!q.text.empty(), "verbalized: the question text must not be empty");
  if (q.kind == QuestionKind::kFixed) {
    BREADTH_CHECK_ARG(!q.item.empty() && !q.items.empty(),
                      "verbalized: Question.item and Question.items must name the answer unit (e.g. day / days)");
    // Figure 13 (its "\_" is the transcription's escaped underscore; the closing '"' is the figure's).
    return q.text +
           "\n\nFor each output, also provide a numeric probability of sampling that output. Please sample "
           "at random from the full distribution.\n\nOutput only the " +
           q.items + " and probabilities between two curly braces, like this: {(" + q.item +
           "_1,probability_1), (" + q.item + "_2,probability_2) ...}. Don't output code.\"";
  }
  // Figure 14, its escaped quotes kept as the figure prints them.
  return q.text +
         " List all the possible answers you can think of. For each answer, also provide a numeric "
         "probability of sampling that answer.\n"
         "\n"
         "Please use the following format:\n"
         "\n"
         "```\n"
         "{\n"
         "  {\n"
         "    \\\"answer-id\\\": 1,\n"
         "    \\\"content\\\": \\\"Your answer here\\\",\n"
         "    \\\"probability\\\": \\\"The probability of this answer\\\"\n"
         "  },\n"
         "  {\n"
         "    \\\"answer-id\\\": 2,\n"
         "    \\\"content\\\": \\\"Your answer here\\\",\n"
         "    \\\"probability\\\": \\\"The probability of this answer\\\"\n"
         "  },\n"
         "  ...\n"
         "}\n"
         "```";
}

MethodResult verbalized(const CausalLM& model, const std::vector<std::string>& prompts,
                        const PromptVariantOptions& o) {
  methods::validate(o, "verbalized");
  check_prompts(prompts, "verbalized");
  BREADTH_CHECK_ARG(o.questions.empty() || o.questions.size() == prompts.size(),
                    "verbalized: options.questions must be empty or hold one Question per prompt ({}), got {}",
                    prompts.size(), o.questions.size());
  std::vector<std::vector<ChatMessage>> convs;
  std::vector<std::string> shown;
  for (size_t p = 0; p < prompts.size(); ++p) {
    Question q;
    if (!o.questions.empty()) q = o.questions[p];
    q.text = prompts[p];
    shown.push_back(verbalized_prompt(q));
    convs.push_back({{"user", shown.back()}});
  }
  return answer_conversations(model, convs, shown, o, "verbalized");
}

MethodResult system_vanilla(const CausalLM& model, const std::vector<std::string>& prompts,
                            const PromptVariantOptions& o) {
  return system_prompted(model, prompts, o, "system_vanilla", kSystemVanillaPrompt);
}

MethodResult system_verbalized(const CausalLM& model, const std::vector<std::string>& prompts,
                               const PromptVariantOptions& o) {
  return system_prompted(model, prompts, o, "system_verbalized", kSystemVerbalizedPrompt);
}

}  // namespace breadth
