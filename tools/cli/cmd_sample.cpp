// `breadth sample`: collect an answer set for one question from one or more models.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "breadth/answer_set.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "cli_options.hpp"
#include "command.hpp"
#include "breadth/progress.hpp"

namespace {

// The library's defaults (shown by --help); the CLI restates none.
const breadth::AnswerSetOptions kSet;
const breadth::Question kQuestion;

struct Args {
  std::vector<std::string> models;
  std::string prompt, strategy = breadth::strategy_name(kSet.strategy),
                      kind = breadth::question_kind_name(kQuestion.kind), item = kQuestion.item,
                      items = kQuestion.items, device = breadth::ModelOptions{}.device.str(),
                      weights = breadth::weight_format_name(breadth::ModelOptions{}.weights);
  std::vector<double> ratios;
  int64_t budget = kSet.budget, batch = kSet.batch, max_generations = kSet.max_generations,
          max_new_tokens = kSet.generation.max_new_tokens;
  uint64_t seed = kSet.generation.seed;
  double temperature = kSet.generation.sampling.temperature, top_p = kSet.generation.sampling.top_p,
         min_p = kSet.generation.sampling.min_p;
  int64_t top_k = kSet.generation.sampling.top_k;
  bool json = false, raw = !kSet.generation.apply_chat_template, quiet = false;
};

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("sample", "Collect an answer set (router paper, Appendix B prompts) from models");
  sub->add_option("--model", a->models, "Checkpoint (HF directory or .gguf); repeat for several models")->required();
  sub->add_option("--prompt", a->prompt, "The question")->required();
  sub->add_option("--strategy", a->strategy, "one | two | all (generate-one / -two / -all)")->capture_default_str();
  sub->add_option("--kind", a->kind, "open (answer-id/content objects) | fixed ({a, b, ...} lists)")
      ->capture_default_str();
  sub->add_option("--item", a->item, "Fixed-answer unit, singular (e.g. day)")->capture_default_str();
  sub->add_option("--items", a->items, "Fixed-answer unit, plural (e.g. days)")->capture_default_str();
  sub->add_option("--budget", a->budget, "Answers to collect over all models (B)")->capture_default_str();
  sub->add_option("--ratio", a->ratios, "Share of the budget per model (default: equal)");
  sub->add_option("--batch", a->batch, "Generations per model and round")->capture_default_str();
  sub->add_option("--max-generations", a->max_generations, "Retry budget per model (0 = automatic)")
      ->capture_default_str();
  sub->add_option("--max-new-tokens", a->max_new_tokens, "Tokens per generation")->capture_default_str();
  sub->add_option("--seed", a->seed, "Request seed")->capture_default_str();
  sub->add_option("--temperature", a->temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  sub->add_option("--top-p", a->top_p, "Nucleus threshold")->capture_default_str();
  sub->add_option("--top-k", a->top_k, "Top-k (0 = off)")->capture_default_str();
  sub->add_option("--min-p", a->min_p, "Min-p (0 = off)")->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--weights", a->weights, "native (quantized GGUF weights stay quantized) | float (expanded to --dtype)")->capture_default_str();
  sub->add_flag("--raw", a->raw, "Do not apply the models' chat templates");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->add_flag("--quiet", a->quiet, "No progress bar");
  return [a] {
    breadth::Question q;
    q.text = a->prompt;
    q.kind = breadth::parse_question_kind(a->kind, "--kind");
    q.item = a->item;
    q.items = a->items;
    breadth::AnswerSetOptions opt;
    opt.strategy = breadth::parse_strategy(a->strategy);
    opt.budget = a->budget;
    opt.ratios = a->ratios;
    opt.batch = a->batch;
    opt.max_generations = a->max_generations;
    opt.generation.max_new_tokens = a->max_new_tokens;
    opt.generation.seed = a->seed;
    opt.generation.sampling = {a->temperature, a->top_k, a->top_p, a->min_p};
    opt.generation.apply_chat_template = !a->raw;
    breadth::TerminalProgress bar("sample", false);
    if (!a->quiet) opt.generation.on_progress = bar.callback();
    breadth::ModelOptions mo;
    mo.device = breadth::parse_device(a->device, "--device");
    mo.weights = breadth::parse_weight_format(a->weights, "--weights");
    std::vector<std::shared_ptr<const breadth::CausalLM>> models;
    for (const auto& p : a->models) models.push_back(breadth::CausalLM::load(p, mo));
    auto set = breadth::collect_answers(models, q, opt);
    if (a->json) {
      nlohmann::json j;
      j["prompt"] = a->prompt;
      j["strategy"] = breadth::strategy_name(opt.strategy);
      j["kind"] = a->kind;
      j["budget"] = a->budget;
      j["complete"] = set.complete;
      j["answers"] = nlohmann::json::array();
      for (const auto& ans : set.answers)
        j["answers"].push_back({{"text", ans.text},
                                {"model", a->models[static_cast<size_t>(ans.model)]},
                                {"model_index", ans.model},
                                {"generation", ans.generation}});
      j["models"] = nlohmann::json::array();
      for (size_t m = 0; m < set.models.size(); ++m) {
        const auto& r = set.models[m];
        nlohmann::json parsed_by = nlohmann::json::object();
        for (size_t p = 0; p < breadth::kAnswerParserCount; ++p)
          parsed_by[breadth::answer_parser_name(static_cast<breadth::AnswerParser>(p))] = r.parsed_by[p];
        j["models"].push_back({{"path", a->models[m]}, {"target", r.target}, {"collected", r.collected},
                               {"generations", r.generations}, {"failed_generations", r.failed_generations},
                               {"generated_tokens", r.generated_tokens}, {"failures", r.failures},
                               {"parsed_by", parsed_by}});
      }
      fmt::print("{}\n", j.dump(2));
    } else {
      for (const auto& ans : set.answers)
        fmt::print("[{}] {}\n", a->models[static_cast<size_t>(ans.model)], ans.text);
      for (size_t m = 0; m < set.models.size(); ++m) {
        const auto& r = set.models[m];
        fmt::print(stderr, "{}: {}/{} answers from {} generations ({} unparsable)\n", a->models[m], r.collected,
                   r.target, r.generations, r.failed_generations);
      }
    }
    if (!set.complete)
      fmt::print(stderr, "breadth sample: the retry budget ran out before {} answers were collected\n", a->budget);
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_sample(CLI::App& app) { return setup(app); }
