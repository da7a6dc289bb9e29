// Tokenizers: Hugging Face tokenizer.json (byte-level BPE, BPE with byte fallback, WordPiece, Unigram),
// SentencePiece .model files, and the vocabularies embedded in GGUF files.
//
// Encoding equals the reference `tokenizers` library id for id. Decoding of a prefix never emits half a
// UTF-8 character when done through IncrementalDecoder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace breadth {

class ChatTemplate;

/// Per-vocabulary token text classes used by BACO's BACO rules (SPEC §3), computed once at load.
struct TokenClasses {
  std::vector<uint8_t> starts_word;     ///< text begins with whitespace/space marker, or is punctuation
  std::vector<uint8_t> is_punctuation;  ///< punctuation/formatting (whitespace-only, P*/S*, special)
  std::vector<uint8_t> ends_word;       ///< text ends in whitespace or punctuation
  std::vector<uint8_t> is_function_word;///< the word it starts is in the English function-word list
  std::vector<uint8_t> is_special;      ///< a special/control token
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// Loads from a directory (tokenizer.json, or tokenizer.model for SentencePiece, plus
  /// tokenizer_config.json for specials and the chat template), a tokenizer.json/.model file, or a
  /// .gguf file's embedded vocabulary. Throws IoError/FormatError/Unsupported.
  static std::shared_ptr<Tokenizer> load(const std::string& path);

  /// Ids for `text`. Special-token strings inside the text are recognized. `add_special` adds what the
  /// post-processor adds (e.g. BOS). Invalid UTF-8 is replaced by U+FFFD before encoding.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special = false) const = 0;
  /// Ids of `prompt` as a chat model wants it: rendered as one user turn plus the generation prompt
  /// (ChatTemplate::render_user_turn, thinking off) by `tmpl`, or by the checkpoint's chat_template()
  /// when `tmpl` is nullptr, then encoded. This is the one place that pairs rendering with encoding, so
  /// that the library, the CLI and the bindings tokenize a chat prompt identically.
  ///
  /// `add_special` is passed to encode() and is false by default: a rendered template already spells
  /// out the special tokens it wants (e.g. BOS), and adding the post-processor's again would double
  /// them. Pass true only where the post-processor's tokens are still wanted on top of the rendering,
  /// e.g. BACO's base-model template (a base model's prompt keeps its BOS) or an explicit request.
  /// Throws InvalidArgument when `tmpl` is nullptr and the checkpoint has no chat template, and what
  /// chat_template() throws when the checkpoint's template cannot be rendered.
  std::vector<int32_t> encode_chat(std::string_view prompt, const ChatTemplate* tmpl = nullptr,
                                   bool add_special = false) const;
  /// Text for `ids`; `skip_special` drops special tokens. Ids outside the vocabulary are dropped
  /// (as the reference does). Bytes that do not form UTF-8 become U+FFFD.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const = 0;
  /// decode() without the final UTF-8 repair: an unfinished character at the end stays as raw bytes,
  /// so that a streaming decoder can hold it back until the next token completes it.
  virtual std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special = false) const {
    return decode(ids, skip_special);
  }
  /// The raw bytes token `id` contributes when decoded in the middle of a sequence.
  virtual std::string token_bytes(int32_t id) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  /// One past the largest id the tokenizer knows (model vocabulary and added tokens).
  virtual int32_t vocab_size() const = 0;
  /// True for special/control tokens (those decode(..., skip_special=true) drops).
  virtual bool is_special(int32_t id) const { return false; }

  std::optional<int32_t> bos_id() const { return bos_id_; }
  /// All ids that end a generation (EOS, plus e.g. <|eot_id|> / <|im_end|> for chat models).
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  std::optional<int32_t> pad_id() const { return pad_id_; }
  const TokenClasses& token_classes() const;
  /// The checkpoint's chat template, or nullptr when it has none (base models). Throws Unsupported
  /// when the checkpoint has a template that breadth's Jinja subset cannot render, rather than
  /// letting a chat model pass silently for a base model; the message names the construct and how
  /// to supply a template yourself.
  const ChatTemplate* chat_template() const;
  /// True when the checkpoint ships a chat template, renderable or not.
  bool has_chat_template() const { return chat_template_ != nullptr || !chat_template_error_.empty(); }
  /// Why the checkpoint's chat template cannot be rendered; empty when it can or there is none.
  const std::string& chat_template_error() const { return chat_template_error_; }

 protected:
  std::optional<int32_t> bos_id_, pad_id_;
  std::vector<int32_t> eos_ids_;
  std::shared_ptr<ChatTemplate> chat_template_;
  std::string chat_template_error_;
  mutable std::shared_ptr<TokenClasses> classes_;
};

/// Streams text from ids one at a time, holding back bytes until they form whole UTF-8 characters.
/// The concatenation of everything push() and flush() return equals decode(ids) for valid UTF-8
/// output. Work per token is bounded: only the tokens since the last complete character (plus one
/// token of context, for decoders that treat the first token specially) are decoded again.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special = false);
  /// Appends `id` and returns the newly completed text (possibly empty).
  std::string push(int32_t id);
  /// Returns whatever is still held back (invalid trailing bytes become U+FFFD).
  std::string flush();

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;   // ids from the context token on
  size_t read_start_ = 0;      // ids_[read_start_..] are not fully emitted yet
  std::string prefix_text_;    // decode_raw(ids_[0..read_start_])
  size_t emitted_bytes_ = 0;   // bytes after prefix_text_ already returned
};

}  // namespace breadth
