// Special ids and the chat template from checkpoint configuration (tokenizer_config.json,
// generation_config.json, config.json, special_tokens_map.json, or GGUF metadata).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "breadth/chat_template.hpp"
#include "breadth/tokenizer.hpp"

namespace breadth::tok {

/// A Tokenizer whose special ids and chat template are filled in after construction, from the
/// configuration files beside it (Tokenizer::load) or from GGUF metadata.
class ConfigurableTokenizer : public Tokenizer {
 public:
  void set_specials(std::optional<int32_t> bos, std::vector<int32_t> eos, std::optional<int32_t> pad) {
    bos_id_ = bos;
    eos_ids_ = std::move(eos);
    pad_id_ = pad;
  }
  void set_chat_template(std::shared_ptr<ChatTemplate> t) { chat_template_ = std::move(t); }
  /// Reads the checkpoint's Jinja template; one outside the supported subset is remembered as an
  /// error that chat_template() reports when a caller needs the template.
  void set_chat_template_source(const std::string& source, const std::string& bos, const std::string& eos);
};

/// Adds the ids of the well-known end-of-turn / end-of-text tokens that exist in `t` as special
/// tokens (<|endoftext|>, <|im_end|>, <|eot_id|>, <|end_of_text|>, <|eom_id|>, </s>, <end_of_turn>,
/// <|end|>) to `eos_ids`, keeping it free of repeats.
void add_known_end_tokens(const Tokenizer& t, std::vector<int32_t>& eos_ids);

}  // namespace breadth::tok
