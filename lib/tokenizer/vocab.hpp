// A token vocabulary: id -> string and a fast string -> id lookup that needs no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace breadth::tok {

class Vocab {
 public:
  Vocab() = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  /// Builds from (token, id) pairs. Throws FormatError (naming `where`) for negative ids or one id
  /// given twice; a token given twice keeps its last id, as serde's map does.
  void assign(std::vector<std::pair<std::string, int32_t>> entries, std::string_view where);

  std::optional<int32_t> find(std::string_view token) const {
    if (slots_.empty()) return std::nullopt;
    size_t h = std::hash<std::string_view>{}(token) & mask_;
    for (;;) {
      const int32_t id = slots_[h];
      if (id < 0) return std::nullopt;
      if (tokens_[id] == token) return id;
      h = (h + 1) & mask_;
    }
  }
  /// nullptr when `id` is outside the vocabulary or a hole in it.
  const std::string* token(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < tokens_.size() && present_[id] ? &tokens_[id] : nullptr;
  }
  /// One past the largest id.
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }

 private:
  std::vector<std::string> tokens_;
  std::vector<uint8_t> present_;
  std::vector<int32_t> slots_;  // open addressing, -1 = empty
  size_t mask_ = 0;
};

}  // namespace breadth::tok
