#include "tokenizer/sp_tokenizer.hpp"

#include <sentencepiece_processor.h>


#include "core/check.hpp"
#include "core/files.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {

class SpTokenizer final : public ConfigurableTokenizer {
 public:
  explicit SpTokenizer(const std::string& path) {
    if (!files::is_regular_file(path)) fail<IoError>("SentencePiece model '{}' does not exist", path);
    const auto st = sp_.Load(path);
    if (!st.ok()) fail<FormatError>("{}: not a readable SentencePiece model ({})", path, st.ToString());
    if (sp_.bos_id() >= 0) bos_id_ = sp_.bos_id();
    if (sp_.eos_id() >= 0) eos_ids_.push_back(sp_.eos_id());
    if (sp_.pad_id() >= 0) pad_id_ = sp_.pad_id();
    add_.bos = bos_id_;
  }

  void set_add_special(SpAddSpecial add) { add_ = add; }

  std::vector<int32_t> encode(std::string_view text, bool add_special) const override {
    const std::string clean = is_valid_utf8(text) ? std::string(text) : sanitize_utf8(text);
    std::vector<int> part;
    const auto st = sp_.Encode(clean, &part);
    if (!st.ok()) fail<Error>("SentencePiece encode failed: {}", st.ToString());
    std::vector<int32_t> ids;
    ids.reserve(part.size() + 1);
    if (add_special && add_.bos) ids.push_back(*add_.bos);
    ids.insert(ids.end(), part.begin(), part.end());
    if (add_special && add_.eos) ids.push_back(*add_.eos);
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::vector<int> kept;
    kept.reserve(ids.size());
    for (int32_t id : ids)
      if (id >= 0 && id < sp_.GetPieceSize() && !(skip_special && is_special(id))) kept.push_back(id);
    std::string out;
    sp_.Decode(kept, &out).IgnoreError();
    return out;
  }

  std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::string out;
    bool first = true;
    for (int32_t id : ids) {
      if (id < 0 || id >= sp_.GetPieceSize() || sp_.IsControl(id) || (skip_special && is_special(id))) continue;
      std::string t = token_bytes(id);
      if (first && !t.empty() && t[0] == ' ') t.erase(0, 1);  // the dummy prefix of the first piece
      first = false;
      out += t;
    }
    return out;
  }

  std::string token_bytes(int32_t id) const override {
    BREADTH_CHECK_ARG(id >= 0 && id < sp_.GetPieceSize(), "token id {} is not in the vocabulary (size {})", id,
                      sp_.GetPieceSize());
    const std::string piece = sp_.IdToPiece(id);
    if (sp_.IsByte(id) && piece.size() == 6) return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    if (sp_.IsUnknown(id)) return " \xE2\x81\x87 ";
    if (sp_.IsControl(id)) return piece;
    std::string out;
    for (size_t i = 0; i < piece.size();) {
      if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
        out.push_back(' ');
        i += 3;
      } else {
        out.push_back(piece[i++]);
      }
    }
    return out;
  }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    const int id = sp_.PieceToId(std::string(token));
    if (id == sp_.unk_id() && token != sp_.IdToPiece(sp_.unk_id())) return std::nullopt;
    return id;
  }
  int32_t vocab_size() const override { return sp_.GetPieceSize(); }
  bool is_special(int32_t id) const override {
    return id >= 0 && id < sp_.GetPieceSize() && (sp_.IsControl(id) || sp_.IsUnknown(id));
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  SpAddSpecial add_;
};

}  // namespace

std::shared_ptr<ConfigurableTokenizer> load_sentencepiece(const std::string& path) {
  return std::make_shared<SpTokenizer>(path);
}

void set_sentencepiece_add_special(ConfigurableTokenizer& t, SpAddSpecial add) {
  auto* sp = dynamic_cast<SpTokenizer*>(&t);
  BREADTH_CHECK_ARG(sp != nullptr, "set_sentencepiece_add_special needs a SentencePiece tokenizer");
  sp->set_add_special(add);
}

}  // namespace breadth::tok
