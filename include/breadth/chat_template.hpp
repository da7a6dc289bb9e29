// Chat templates: how a checkpoint wants one user turn (plus the generation prompt) rendered.
//
// Templates come from the checkpoint (the Jinja `chat_template` of tokenizer_config.json or GGUF
// metadata, interpreted by a Jinja subset that renders the supported families exactly as
// transformers' apply_chat_template does), from a built-in family, or from the user.
// See docs/chat-templates.md for the supported Jinja subset.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace breadth {

struct ChatMessage {
  std::string role;     ///< "system", "user" or "assistant"
  std::string content;
};

class ChatTemplate {
 public:
  virtual ~ChatTemplate() = default;

  /// A Jinja template as found in tokenizer_config.json / GGUF `tokenizer.chat_template`.
  /// `bos_token`/`eos_token` are the strings the template sees (an empty string leaves the variable
  /// undefined, as transformers does for a tokenizer without that token). `variables` are further
  /// string variables, e.g. the other special tokens transformers passes (`pad_token`, `unk_token`).
  /// Every template also sees `add_generation_prompt` and `enable_thinking = false` (breadth always
  /// renders with thinking off, e.g. for Qwen3).
  /// Throws FormatError (syntax) or Unsupported (a construct outside the supported subset), naming
  /// the line and column.
  static std::shared_ptr<ChatTemplate> from_jinja(
      std::string source, std::string bos_token, std::string eos_token,
      std::vector<std::pair<std::string, std::string>> variables = {});
  /// from_jinja with the template read from a file (a `.jinja` file, or a checkpoint's
  /// chat_template.jinja). IoError naming the path when it cannot be read.
  static std::shared_ptr<ChatTemplate> load_jinja(const std::string& path, std::string bos_token,
                                                  std::string eos_token);
  /// The plain template for base models (BACO Appendix A): the messages' contents as they are, joined
  /// by a blank line, and no generation prompt, so one user turn renders as the bare prompt.
  static std::shared_ptr<ChatTemplate> plain();
  /// The plain shifting template (BACO paper, Appendix A), the default prompt of a base model in
  /// BACO: every message's content followed by one newline, so that the answer starts on a new line;
  /// one user turn renders as "PROMPT\n", a system text plus a user turn as "SYSTEM\nPROMPT\n". This is
  /// how the NUDGING code BACO builds on (Fei et al. 2025, `apply_instruct_template`) prompts base
  /// models: `f"{system}\n{instruction}\n{answer_start}"`. No generation prompt.
  static std::shared_ptr<ChatTemplate> shifting();
  /// A user-supplied format string: `{prompt}` is the user turn, `{system}` the system message (empty
  /// without one); `{{` and `}}` are literal braces. Only [system,] user conversations render with it.
  /// Throws InvalidArgument for other placeholders or unbalanced braces.
  static std::shared_ptr<ChatTemplate> from_format(std::string format);
  /// A built-in template by name: "plain", "shifting", or "chatml" (the `<|im_start|>role` format of Qwen2/2.5,
  /// SmolLM2 and others, without a default system prompt). Throws InvalidArgument for other names.
  static std::shared_ptr<ChatTemplate> builtin(std::string_view name);

  /// Renders the conversation; `add_generation_prompt` appends the assistant header. Safe to call
  /// from several threads at once (each call renders with its own state).
  /// Throws InvalidArgument for an empty conversation or one the template rejects (its
  /// raise_exception, e.g. a system turn for Gemma-2), FormatError when the template fails.
  virtual std::string render(const std::vector<ChatMessage>& messages,
                             bool add_generation_prompt = true) const = 0;
  /// One user turn plus the generation prompt (thinking off for Qwen3).
  std::string render_user_turn(std::string_view prompt) const {
    return render({{"user", std::string(prompt)}}, true);
  }
};

}  // namespace breadth
