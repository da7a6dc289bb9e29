#include "tokenizer/base64.hpp"

#include <algorithm>
#include <cstdint>

namespace breadth::tok {

namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    int v[4];
    for (int k = 0; k < 4 - pad; ++k)
      if ((v[k] = sextet(text[i + k])) < 0) return std::nullopt;
    if (pad == 2) {
      if (v[1] & 0x0F) return std::nullopt;  // bits that fall off the end must be zero
      out.push_back(static_cast<char>((v[0] << 2) | (v[1] >> 4)));
    } else if (pad == 1) {
      if (v[2] & 0x03) return std::nullopt;
      out.push_back(static_cast<char>((v[0] << 2) | (v[1] >> 4)));
      out.push_back(static_cast<char>(((v[1] & 0x0F) << 4) | (v[2] >> 2)));
    } else {
      out.push_back(static_cast<char>((v[0] << 2) | (v[1] >> 4)));
      out.push_back(static_cast<char>(((v[1] & 0x0F) << 4) | (v[2] >> 2)));
      out.push_back(static_cast<char>(((v[2] & 0x03) << 6) | v[3]));
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<uint8_t>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out.push_back(k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

}  // namespace breadth::tok
