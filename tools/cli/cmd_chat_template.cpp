// `breadth chat-template`: the exact text a model is prompted with for a conversation, rendered with
// the checkpoint's chat template (as transformers' apply_chat_template(tokenize=False) would), a
// template file, a format string, or the plain template of base models.
#include <fmt/format.h>

#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "command.hpp"

namespace {

struct Args {
  std::string model, prompt, system, template_file, format, bos, eos;
  bool plain = false, no_generation_prompt = false, json = false;
};

std::function<int()> setup(CLI::App& app) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("chat-template", "Print a conversation rendered with a chat template");
  cmd->add_option("--model", args->model,
                  "Checkpoint directory, tokenizer file or .gguf whose chat template to use");
  cmd->add_option("--prompt", args->prompt, "The user turn")->required();
  cmd->add_option("--system", args->system, "An optional system message before the user turn");
  cmd->add_option("--template-file", args->template_file, "A Jinja chat template to use instead of the model's");
  cmd->add_option("--format", args->format, "A format string instead of a template: {prompt}, {system}");
  cmd->add_flag("--plain", args->plain, "The plain template (the bare prompt; BACO's base model gets the prompt and a newline, "
                "--format $'{prompt}\\n')");
  cmd->add_option("--bos", args->bos, "bos_token a --template-file sees (default: undefined)");
  cmd->add_option("--eos", args->eos, "eos_token a --template-file sees (default: undefined)");
  cmd->add_flag("--no-generation-prompt", args->no_generation_prompt, "Leave out the assistant header");
  cmd->add_flag("--json", args->json, "Print the result as a JSON string (shows every whitespace)");
  return [args]() -> int {
    std::shared_ptr<breadth::ChatTemplate> owned;
    std::shared_ptr<breadth::Tokenizer> tok;  // owns the model's template
    const breadth::ChatTemplate* t = nullptr;
    if (args->plain) {
      owned = breadth::ChatTemplate::plain();
    } else if (!args->format.empty()) {
      owned = breadth::ChatTemplate::from_format(args->format);
    } else if (!args->template_file.empty()) {
      owned = breadth::ChatTemplate::load_jinja(args->template_file, args->bos, args->eos);
    } else {
      if (args->model.empty())
        throw breadth::InvalidArgument("give --model (its chat template), or --template-file, --format or --plain");
      tok = breadth::Tokenizer::load(args->model);
      if (!tok->chat_template())
        throw breadth::InvalidArgument(fmt::format(
            "'{}' has no chat template (or one outside the supported Jinja subset); use --plain for a base model",
            args->model));
      t = tok->chat_template();
    }
    if (owned) t = owned.get();
    std::vector<breadth::ChatMessage> messages;
    if (!args->system.empty()) messages.push_back({"system", args->system});
    messages.push_back({"user", args->prompt});
    const std::string text = t->render(messages, !args->no_generation_prompt);
    if (args->json) {
      fmt::print("{}\n", nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      fmt::print("{}", text);
    }
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_chat_template(CLI::App& app) { return setup(app); }
