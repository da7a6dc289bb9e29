// Chat templates: how a checkpoint wants one user turn (plus the generation prompt) rendered.
//
// Templates come from the checkpoint (the Jinja `chat_template` of tokenizer_config.json or GGUF
// metadata, interpreted by a Jinja subset that renders the supported families exactly as
// transformers' apply_chat_template does), from a built-in family, or from the user.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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
  /// Throws FormatError (syntax) or Unsupported (a construct outside the supported subset).
  static std::shared_ptr<ChatTemplate> from_jinja(std::string source, std::string bos_token,
                                                  std::string eos_token);
  /// The plain template for base models: the prompt as it is (BACO Appendix A).
  static std::shared_ptr<ChatTemplate> plain();

  /// Renders the conversation; `add_generation_prompt` appends the assistant header.
  virtual std::string render(const std::vector<ChatMessage>& messages,
                             bool add_generation_prompt = true) const = 0;
  /// One user turn plus the generation prompt (thinking off for Qwen3).
  std::string render_user_turn(std::string_view prompt) const {
    return render({{"user", std::string(prompt)}}, true);
  }
};

}  // namespace breadth
