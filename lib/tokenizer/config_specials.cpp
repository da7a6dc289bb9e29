#include "tokenizer/config_specials.hpp"

#include <algorithm>

#include "breadth/error.hpp"
#include "core/check.hpp"

namespace breadth::tok {

void ConfigurableTokenizer::set_chat_template_source(const std::string& source, const std::string& bos,
                                                     const std::string& eos) {
  // The tokenizer stays usable for plain text when the template is not; the error surfaces only
  // where a caller asks for the template.
  try {
    auto t = ChatTemplate::from_jinja(source, bos, eos);
    // Unsupported filters and methods show only when rendered: try the one-user-turn render that
    // prompting uses, so a template breadth cannot render is known at load.
    t->render_user_turn("Hello");
    chat_template_ = std::move(t);
    chat_template_error_.clear();
  } catch (const Unsupported& e) {
    chat_template_ = nullptr;
    chat_template_error_ = e.what();
  }
}

}  // namespace breadth::tok

namespace breadth {

const ChatTemplate* Tokenizer::chat_template() const {
  if (!chat_template_ && !chat_template_error_.empty())
    fail<Unsupported>("the checkpoint's chat template cannot be rendered ({}); render the prompt yourself "
                      "(ChatTemplate::from_format / from_jinja) and turn the checkpoint's "
                      "template off (apply_chat_template = false, `--raw`)",
                      chat_template_error_);
  return chat_template_.get();
}

std::vector<int32_t> Tokenizer::encode_chat(std::string_view prompt, const ChatTemplate* tmpl,
                                            bool add_special) const {
  if (!tmpl) tmpl = chat_template();
  BREADTH_CHECK_ARG(tmpl != nullptr,
                    "encode_chat: the tokenizer has no chat template; pass one (ChatTemplate::builtin, "
                    "from_format, from_jinja) or encode the prompt as it is");
  return encode(tmpl->render_user_turn(prompt), add_special);
}

}  // namespace breadth

namespace breadth::tok {

void add_known_end_tokens(const Tokenizer& t, std::vector<int32_t>& eos_ids) {
  static const char* const kEnds[] = {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>",
                                      "<|eom_id|>",    "</s>",       "<end_of_turn>", "<|end|>"};
  for (const char* e : kEnds) {
    const auto id = t.token_to_id(e);
    if (id && t.is_special(*id) && std::find(eos_ids.begin(), eos_ids.end(), *id) == eos_ids.end())
      eos_ids.push_back(*id);
  }
}

}  // namespace breadth::tok
