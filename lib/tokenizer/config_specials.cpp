#include "tokenizer/config_specials.hpp"

#include <algorithm>

#include "breadth/error.hpp"

namespace breadth::tok {

std::shared_ptr<ChatTemplate> make_chat_template(const std::string& source, const std::string& bos,
                                                 const std::string& eos) {
  try {
    return ChatTemplate::from_jinja(source, bos, eos);
  } catch (const Unsupported&) {
    return nullptr;
  }
}

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
