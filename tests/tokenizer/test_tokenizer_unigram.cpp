// Hand-worked cases for the Unigram model (Viterbi over scores, ties, unk fusing, byte fallback),
// the Precompiled normalizer (a double-array trie built here by hand, the shortest-prefix and
// grapheme rules of tokenizers) and base64; malformed charsmaps must fail cleanly. The same pieces
// are checked against HF tokenizers on the corpus by tokenizer_corpus.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "breadth/error.hpp"
#include "tokenizer/base64.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/precompiled.hpp"
#include "tokenizer/unigram.hpp"

using namespace breadth;
using Ids = std::vector<int32_t>;

namespace {

Ids ids_of(const tok::UnigramModel& m, std::string_view s) {
  Ids out;
  m.tokenize(s, out);
  return out;
}

std::vector<std::string> pieces_of(const tok::UnigramModel& m, std::string_view s) {
  std::vector<std::string> out;
  for (auto p : m.segment(s)) out.emplace_back(p);
  return out;
}

// A darts-clone double array for a few keys, laid out greedily: a node at unit p with base b keeps
// offset p ^ b; its child for byte c sits at b ^ c (label c), its value (when it ends a key) at b.
class DoubleArrayBuilder {
 public:
  void add(const std::string& key, uint32_t value) {
    int n = 0;
    for (unsigned char c : key) {
      auto it = nodes_[n].kids.find(c);
      if (it == nodes_[n].kids.end()) {
        nodes_.push_back({});
        it = nodes_[n].kids.emplace(c, static_cast<int>(nodes_.size()) - 1).first;
      }
      n = it->second;
    }
    nodes_[n].value = static_cast<int64_t>(value);
  }
  std::vector<uint32_t> build() {
    units_.assign(4096, 0);
    used_.assign(4096, false);
    used_[0] = true;
    place(0, 0, 0);
    return units_;
  }

 private:
  struct Node {
    std::map<unsigned char, int> kids;
    int64_t value = -1;
  };
  void place(int n, size_t p, unsigned char label) {
    const Node& node = nodes_[n];
    size_t b = 1;
    for (;; ++b) {
      // Bases are never shared: a shared base would let one node's children pass as another's.
      bool ok = !bases_.count(b) && !(node.value >= 0 && used_[b]);
      for (const auto& [c, k] : node.kids) ok = ok && !used_[b ^ c];
      if (ok) break;
    }
    bases_.insert(b);
    const uint32_t offset = static_cast<uint32_t>(p ^ b);
    units_[p] = (offset << 10) | (node.value >= 0 ? (1u << 8) : 0u) | label;
    if (node.value >= 0) {
      used_[b] = true;
      units_[b] = static_cast<uint32_t>(node.value) | (1u << 31);  // bit 31: a value, never a label
    }
    for (const auto& [c, k] : node.kids) used_[b ^ c] = true;
    for (const auto& [c, k] : node.kids) place(k, b ^ c, c);
  }
  std::vector<Node> nodes_{1};
  std::vector<uint32_t> units_;
  std::vector<bool> used_;
  std::set<size_t> bases_;
};

std::string charsmap_blob(const std::vector<uint32_t>& units, const std::string& pool) {
  std::string blob;
  auto put = [&](uint32_t v) {
    for (int k = 0; k < 4; ++k) blob.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  };
  put(static_cast<uint32_t>(units.size() * 4));
  for (uint32_t u : units) put(u);
  return blob + pool;
}

}  // namespace

TEST_CASE("Unigram: best path by summed scores, ties to the earliest path, fused unknowns", "[tokenizer][unigram]") {
  const tok::UnigramModel m({{"<unk>", 0.0}, {"a", -1.0}, {"b", -2.0}, {"ab", -2.5}, {"c", -3.0}}, 0, false, "test");
  // "ab": a+b = -3 < ab = -2.5.
  CHECK(ids_of(m, "ab") == Ids{3});
  CHECK(ids_of(m, "abc") == Ids{3, 4});
  CHECK(ids_of(m, "ba") == Ids{2, 1});
  // An unknown character scores min score (-3) - 10 and is unk; neighbours fuse into one unk.
  CHECK(ids_of(m, "xa") == Ids{0, 1});
  CHECK(pieces_of(m, "xyza") == std::vector<std::string>{"xyz", "a"});
  CHECK(ids_of(m, "xyza") == Ids{0, 1});
  CHECK(ids_of(m, "x\xC3\xA9y") == Ids{0});
  CHECK(ids_of(m, "axb") == Ids{1, 0, 2});
  CHECK(ids_of(m, "") == Ids{});

  // Equal totals: the path found first (the longer piece from the earlier start) stays.
  const tok::UnigramModel tie({{"a", -1.0}, {"b", -1.0}, {"ab", -2.0}}, std::nullopt, false, "test");
  CHECK(ids_of(tie, "ab") == Ids{2});
  // Without unk_id an uncovered character is an error (tokenizers fails the same way), not a crash.
  CHECK_THROWS_AS(ids_of(tie, "abz"), FormatError);
}

TEST_CASE("Unigram: byte fallback for unknown runs when every byte has a piece", "[tokenizer][unigram]") {
  const tok::UnigramModel m({{"<unk>", 0.0}, {"a", -1.0}, {"<0x78>", -5.0}, {"<0xC3>", -5.0}, {"<0xA9>", -5.0}}, 0, true,
                            "test");
  CHECK(ids_of(m, "xa") == Ids{2, 1});               // "x" -> <0x78>
  CHECK(ids_of(m, "x\xC3\xA9" "a") == Ids{2, 3, 4, 1});  // "xé" fused, then its bytes
  CHECK(ids_of(m, "xya") == Ids{0, 1});              // no <0x79>: the fused run stays unk
  // Pieces are looked up by text: the literal "<0x78>" is a piece of its own.
  CHECK(ids_of(m, "<0x78>") == Ids{2});
}

TEST_CASE("Unigram through tokenizer.json: vocabulary checks", "[tokenizer][unigram]") {
  using nlohmann::json;
  const json vocab = json::array({json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81" "a", -1.0})});
  json j = {{"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", vocab}}},
            {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}},
            {"decoder", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}}};
  auto t = tok::HfTokenizer::from_json(j, "test");
  CHECK(t->encode("a a") == Ids{1, 1});
  CHECK(t->encode("a b") == Ids{1, 0});
  CHECK(t->decode({1, 1}) == "a a");
  j["model"]["unk_id"] = 2;
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(j, "test"), FormatError);
  j["model"]["unk_id"] = 0;
  j["model"]["vocab"] = json::array({json::array({"<unk>"})});
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(j, "test"), FormatError);
  j["model"]["vocab"] = json::array();
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(j, "test"), FormatError);
}

TEST_CASE("Unigram: pieces spelled like added tokens decode as tokenizers does", "[tokenizer][unigram]") {
  // A trained vocabulary can hold "<unk>" and "</s>" as pieces while the added (special) tokens of the
  // same text have other ids, as tokenizers' UnigramTrainer makes when the training text contains them.
  // tokenizers: id_to_token is positional (each id its own piece), token_to_id takes the last repeat,
  // and decode's skip_special_tokens goes by the token's text.
  using nlohmann::json;
  const json vocab = json::array({json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81" "a", -1.0}),
                                  json::array({"</s>", -2.0}), json::array({"<unk>", -3.0})});
  json j = {{"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", vocab}}},
            {"added_tokens", json::array({{{"id", 4}, {"content", "</s>"}, {"special", true}, {"single_word", false},
                                           {"lstrip", false}, {"rstrip", false}, {"normalized", false}}})},
            {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}},
            {"decoder", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}}};
  auto t = tok::HfTokenizer::from_json(j, "test");
  CHECK(t->decode({1, 0, 1}) == "a<unk> a");   // id 0 is its own piece although "<unk>" maps to 3
  CHECK(t->token_to_id("<unk>") == std::optional<int32_t>(3));
  CHECK(t->decode({1, 2}) == "a</s>");
  CHECK(t->decode({1, 2}, true) == "a");        // the piece "</s>" is skipped: its text is special
  CHECK(t->decode({1, 4}, true) == "a");
  CHECK(t->decode({1, 0}, true) == "a<unk>");  // "<unk>" is not an added token here
}

TEST_CASE("base64 decoding is strict", "[tokenizer][unigram]") {
  CHECK(tok::base64_decode("") == std::string());
  CHECK(tok::base64_decode("YQ==") == std::string("a"));
  CHECK(tok::base64_decode("YWI=") == std::string("ab"));
  CHECK(tok::base64_decode("YWJj") == std::string("abc"));
  CHECK(tok::base64_decode("AP8A") == std::string("\x00\xFF\x00", 3));
  CHECK_FALSE(tok::base64_decode("YWJ").has_value());   // length
  CHECK_FALSE(tok::base64_decode("YR==").has_value());  // padding bits set
  CHECK_FALSE(tok::base64_decode("Y===").has_value());
  CHECK_FALSE(tok::base64_decode("Y!Jj").has_value());
  CHECK_FALSE(tok::base64_decode("YQ==YWJj").has_value());  // '=' before the end
}

TEST_CASE("grapheme clusters follow UAX #29", "[tokenizer][unigram]") {
  using V = std::vector<size_t>;
  CHECK(tok::grapheme_boundaries("") == V{0});
  CHECK(tok::grapheme_boundaries("ab") == V{0, 1, 2});
  // e + combining acute (3 bytes), x, CR LF (one cluster), a ZWJ family (18 bytes, one cluster).
  CHECK(tok::grapheme_boundaries("e\xCC\x81x\r\n\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7") ==
        V{0, 3, 4, 6, 24});
}

TEST_CASE("Precompiled: shortest-prefix rules per grapheme, per character beyond 5 bytes", "[tokenizer][unigram]") {
  // Rules: "a" -> "A", "e" U+0301 -> "é", "\r" -> " ", "ff" -> "F".
  const std::string pool = std::string("A\0\xC3\xA9\0 \0F", 8);
  DoubleArrayBuilder b;
  b.add("a", 0);
  b.add("e\xCC\x81", 2);
  b.add("\r", 5);
  b.add("ff", 7);
  const tok::PrecompiledCharsmap m(charsmap_blob(b.build(), pool), "test");
  CHECK(m.transform("a") == std::optional<std::string_view>("A"));
  CHECK(m.transform("ab") == std::optional<std::string_view>("A"));  // a prefix rule covers the chunk
  CHECK_FALSE(m.transform("e").has_value());                           // inner node, no rule
  CHECK_FALSE(m.transform("b").has_value());
  CHECK(m.transform("e\xCC\x81") == std::optional<std::string_view>("\xC3\xA9"));
  CHECK(m.transform("ff") == std::optional<std::string_view>("F"));  // last rule: runs to the pool's end

  // A whole cluster under 6 bytes with a rule is replaced by it: CR LF becomes one space, "a" plus
  // an acute becomes "A" (the mark is lost, as in tokenizers).
  CHECK(m.normalize("e\xCC\x81x\r\n") == "\xC3\xA9x ");
  CHECK(m.normalize("a\xCC\x81") == "A");
  // Clusters of 6 bytes or more go character by character.
  CHECK(m.normalize("a\xCC\x81\xCC\x81\xCC\x81") == "A\xCC\x81\xCC\x81\xCC\x81");
  // Rules never span clusters: "ff" is two clusters, and "f" has no rule.
  CHECK(m.normalize("ffa") == "ffA");
  CHECK(m.normalize("") == "");
}

TEST_CASE("Precompiled: malformed charsmaps fail cleanly", "[tokenizer][unigram]") {
  DoubleArrayBuilder b;
  b.add("a", 0);
  const auto units = b.build();
  CHECK_THROWS_AS(tok::PrecompiledCharsmap(std::string("\x04\x00\x00", 3), "test"), FormatError);
  // Declares more trie bytes than there are.
  CHECK_THROWS_AS(tok::PrecompiledCharsmap(charsmap_blob(units, "A").substr(0, 100), "test"), FormatError);
  CHECK_THROWS_AS(tok::PrecompiledCharsmap(charsmap_blob({}, "A"), "test"), FormatError);
  // The pool is not UTF-8.
  CHECK_THROWS_AS(tok::PrecompiledCharsmap(charsmap_blob(units, "\xFF"), "test"), FormatError);
  // A value past the pool, or inside a character.
  {
    DoubleArrayBuilder far;
    far.add("a", 50);
    const tok::PrecompiledCharsmap m(charsmap_blob(far.build(), "A"), "test");
    CHECK_THROWS_AS(m.transform("a"), FormatError);
    CHECK_THROWS_AS(m.normalize("xa"), FormatError);
  }
  {
    DoubleArrayBuilder mid;
    mid.add("a", 1);
    const tok::PrecompiledCharsmap m(charsmap_blob(mid.build(), "\xC3\xA9"), "test");
    CHECK_THROWS_AS(m.transform("a"), FormatError);
  }
  // Offsets that lead outside the trie.
  {
    const tok::PrecompiledCharsmap m(charsmap_blob({5000u << 10}, ""), "test");
    CHECK_THROWS_AS(m.transform("a"), FormatError);
  }
  // Through tokenizer.json: bad base64, missing charsmap.
  using nlohmann::json;
  json j = {{"model", {{"type", "WordLevel"}, {"vocab", {{"a", 0}}}, {"unk_token", "a"}}},
            {"normalizer", {{"type", "Precompiled"}, {"precompiled_charsmap", "%%%%"}}}};
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(j, "test"), FormatError);
  j["normalizer"] = {{"type", "Precompiled"}};
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(j, "test"), FormatError);
}

TEST_CASE("scores as serde_json reads their shortest text", "[tokenizer][unigram]") {
  // "-9.564819013081193": significand 9564819013081193 (above 2^53, so rounded to a double), then
  // divided by 1e15; correctly rounded parsing gives a value one ulp away.
  const double exact = -9.564819013081193;
  CHECK(tok::serde_json_f64(exact) == -(static_cast<double>(9564819013081193ull) / 1e15));
  CHECK(tok::serde_json_f64(exact) != exact);
  // Integral values are written "100.0": significand 1000, exponent -1.
  CHECK(tok::serde_json_f64(100.0) == 1000.0 / 10.0);
  // "1e-7" and "1.5e-7": significand 1 / 15, exponent -7 / -8.
  CHECK(tok::serde_json_f64(1e-7) == 1.0 / 1e7);
  CHECK(tok::serde_json_f64(1.5e-7) == 15.0 / 1e8);
  CHECK(tok::serde_json_f64(0.0) == 0.0);
  CHECK(tok::serde_json_f64(-0.25) == -0.25);
}
