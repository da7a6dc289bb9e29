// A Tokenizer that runs a Hugging Face `tokenizers` pipeline (tokenizer.json, or one synthesized
// from a GGUF vocabulary or GPT-2's encoder.json/vocab.bpe).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "breadth/tokenizer.hpp"
#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/pipeline.hpp"

namespace breadth::tok {

class HfTokenizer final : public ConfigurableTokenizer {
 public:
  /// Builds from a parsed tokenizer.json; `where` names the source in error messages. Throws
  /// FormatError for malformed content and Unsupported for pipeline stages breadth lacks.
  static std::shared_ptr<HfTokenizer> from_json(const nlohmann::json& j, std::string_view where);
  /// Reads and parses a tokenizer.json file.
  static std::shared_ptr<HfTokenizer> from_file(const std::string& path);

  std::vector<int32_t> encode(std::string_view text, bool add_special = false) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string token_bytes(int32_t id) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  int32_t vocab_size() const override;
  bool is_special(int32_t id) const override;

  /// The token strings (pieces) of an encoding, mostly for tests and the CLI.
  std::string id_to_token(int32_t id) const;

 private:
  std::string decode_impl(const std::vector<int32_t>& ids, bool skip_special, bool raw) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
};

/// Builds the BPE/WordPiece/WordLevel model of a tokenizer.json "model" entry.
std::unique_ptr<Model> make_model(const nlohmann::json& j, std::string_view where);

}  // namespace breadth::tok
