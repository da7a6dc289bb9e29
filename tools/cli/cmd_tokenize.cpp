// `breadth tokenize`: the ids of a text under a checkpoint's tokenizer, printed as one JSON array
// (the same as Python's `json.dumps(tokenizer.encode(text, add_special_tokens=False))`).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>

#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "command.hpp"

namespace {

struct Args {
  std::string model, text;
  bool add_special = false, chat = false, decode = false;
};

std::function<int()> setup(CLI::App& app) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  cmd->add_option("--model", args->model,
                  "Tokenizer: a checkpoint directory (tokenizer.json / tokenizer.model / encoder.json + vocab.bpe), "
                  "a tokenizer file, or a .gguf")
      ->required();
  cmd->add_option("--text", args->text, "The text to encode")->required();
  cmd->add_flag("--add-special", args->add_special, "Add what the post-processor adds (e.g. BOS)");
  cmd->add_flag("--chat", args->chat, "Render the text as one user turn with the tokenizer's chat template first");
  cmd->add_flag("--decode", args->decode, "Also print the decoded text on a second line (as a JSON string)");
  return [args]() -> int {
    const auto tok = breadth::Tokenizer::load(args->model);
    const breadth::ChatTemplate* t = args->chat ? tok->chat_template() : nullptr;
    if (args->chat && !t)
      throw breadth::InvalidArgument(
          fmt::format("--chat: '{}' has no chat template (or one outside the supported Jinja subset)", args->model));
    // --add-special applies on top of the rendering too: the user asked for it explicitly.
    const auto ids = t ? tok->encode_chat(args->text, t, args->add_special) : tok->encode(args->text, args->add_special);
    fmt::print("[{}]\n", fmt::join(ids, ", "));
    if (args->decode) {
      std::string quoted = "\"";
      for (unsigned char c : tok->decode(ids)) {
        if (c == '"' || c == '\\') quoted += fmt::format("\\{}", static_cast<char>(c));
        else if (c < 0x20) quoted += fmt::format("\\u{:04x}", c);
        else quoted.push_back(static_cast<char>(c));
      }
      fmt::print("{}\"\n", quoted);
    }
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_tokenize(CLI::App& app) { return setup(app); }
