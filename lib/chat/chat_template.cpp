// ChatTemplate implementations: Jinja (checkpoint templates), plain and shifting (base models), format strings.
#include "breadth/chat_template.hpp"

#include "core/check.hpp"
#include "core/files.hpp"
#include "chat/jinja_interpreter.hpp"
#include "chat/jinja_parser.hpp"

namespace breadth {

namespace {

void check_nonempty(const std::vector<ChatMessage>& messages) {
  BREADTH_CHECK_ARG(!messages.empty(), "cannot render an empty conversation: give at least one message");
}

class JinjaChatTemplate final : public ChatTemplate {
 public:
  JinjaChatTemplate(std::string source, std::string bos, std::string eos,
                    std::vector<std::pair<std::string, std::string>> variables)
      : program_(jinja::parse(source)) {
    for (auto& kv : variables) base_.set(kv.first, jinja::Value(kv.second));
    if (!bos.empty()) base_.set("bos_token", jinja::Value(std::move(bos)));
    if (!eos.empty()) base_.set("eos_token", jinja::Value(std::move(eos)));
  }

  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const override {
    check_nonempty(messages);
    jinja::Dict ctx = base_;
    std::vector<jinja::Value> msgs;
    msgs.reserve(messages.size());
    for (const auto& m : messages) {
      jinja::Dict d;
      d.set("role", jinja::Value(m.role));
      d.set("content", jinja::Value(m.content));
      msgs.emplace_back(std::move(d));
    }
    ctx.set("messages", jinja::Value::list(std::move(msgs)));
    ctx.set("add_generation_prompt", jinja::Value(add_generation_prompt));
    ctx.set("enable_thinking", jinja::Value(false));
    jinja::Interpreter interpreter;
    return interpreter.render(program_, ctx);
  }

 private:
  jinja::Program program_;
  jinja::Dict base_;
};

class PlainChatTemplate final : public ChatTemplate {
 public:
  std::string render(const std::vector<ChatMessage>& messages, bool) const override {
    check_nonempty(messages);
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (i) out += "\n\n";
      out += messages[i].content;
    }
    return out;
  }
};

// The plain shifting template (BACO Appendix A): each content on its own line, ending with a newline.
class ShiftingChatTemplate final : public ChatTemplate {
 public:
  std::string render(const std::vector<ChatMessage>& messages, bool) const override {
    check_nonempty(messages);
    std::string out;
    for (const auto& m : messages) {
      out += m.content;
      out += '\n';
    }
    return out;
  }
};

// A format string split into literal pieces and placeholders ("prompt" / "system").
class FormatChatTemplate final : public ChatTemplate {
 public:
  explicit FormatChatTemplate(const std::string& format) {
    std::string lit;
    for (size_t i = 0; i < format.size(); ++i) {
      const char c = format[i];
      if ((c == '{' || c == '}') && i + 1 < format.size() && format[i + 1] == c) {
        lit.push_back(c);
        ++i;
      } else if (c == '{') {
        const size_t close = format.find('}', i);
        BREADTH_CHECK_ARG(close != std::string::npos, "chat format string: unclosed '{{' at offset {} "
                          "(write '{{{{' for a literal brace)", i);
        const std::string name = format.substr(i + 1, close - i - 1);
        BREADTH_CHECK_ARG(name == "prompt" || name == "system",
                          "chat format string: unknown placeholder '{{{}}}'; use {{prompt}} and {{system}}", name);
        pieces_.push_back({lit, false});
        pieces_.push_back({name, true});
        lit.clear();
        i = close;
      } else if (c == '}') {
        fail("chat format string: unmatched '}}' at offset {} (write '}}}}' for a literal brace)", i);
      } else {
        lit.push_back(c);
      }
    }
    pieces_.push_back({lit, false});
    bool has_prompt = false;
    for (const auto& p : pieces_) has_prompt = has_prompt || (p.placeholder && p.text == "prompt");
    BREADTH_CHECK_ARG(has_prompt, "chat format string must contain {{prompt}}");
  }

  std::string render(const std::vector<ChatMessage>& messages, bool) const override {
    check_nonempty(messages);
    std::string system, prompt;
    size_t i = 0;
    if (messages[0].role == "system") system = messages[i++].content;
    BREADTH_CHECK_ARG(messages.size() == i + 1 && messages[i].role == "user",
                      "a format-string chat template renders one user turn (optionally after a system "
                      "message); got {} messages", messages.size());
    prompt = messages[i].content;
    std::string out;
    for (const auto& p : pieces_) out += !p.placeholder ? p.text : p.text == "prompt" ? prompt : system;
    return out;
  }

 private:
  struct Piece {
    std::string text;
    bool placeholder;
  };
  std::vector<Piece> pieces_;
};

// ChatML as Qwen2.5/SmolLM2 write it, minus their default system prompts.
constexpr const char* kChatMl =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

}  // namespace

std::shared_ptr<ChatTemplate> ChatTemplate::from_jinja(std::string source, std::string bos_token,
                                                       std::string eos_token,
                                                       std::vector<std::pair<std::string, std::string>> variables) {
  return std::make_shared<JinjaChatTemplate>(std::move(source), std::move(bos_token), std::move(eos_token),
                                             std::move(variables));
}

std::shared_ptr<ChatTemplate> ChatTemplate::load_jinja(const std::string& path, std::string bos_token,
                                                       std::string eos_token) {
  auto source = files::try_read_file(path);
  if (!source) fail<IoError>("cannot read the chat template file '{}'", path);
  return from_jinja(std::move(*source), std::move(bos_token), std::move(eos_token));
}

std::shared_ptr<ChatTemplate> ChatTemplate::plain() { return std::make_shared<PlainChatTemplate>(); }

std::shared_ptr<ChatTemplate> ChatTemplate::shifting() {
  return std::make_shared<ShiftingChatTemplate>();
}

std::shared_ptr<ChatTemplate> ChatTemplate::from_format(std::string format) {
  return std::make_shared<FormatChatTemplate>(format);
}

std::shared_ptr<ChatTemplate> ChatTemplate::builtin(std::string_view name) {
  if (name == "plain") return plain();
  if (name == "shifting") return shifting();
  if (name == "chatml") return from_jinja(kChatMl, "", "");
  fail("unknown built-in chat template '{}'; choose 'plain', 'shifting' or 'chatml', or pass the checkpoint's own", name);
}

}  // namespace breadth
