// Small hand-worked cases for the tokenizer pieces: UTF-8 repair, split behaviours (the examples of
// the tokenizers documentation), BPE merge order, byte fallback and unk fusing, WordPiece (the BERT
// paper's example), added-token rules, and streaming decode of a character split over tokens.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/pipeline.hpp"
#include "core/utf8.hpp"

using namespace breadth;
using nlohmann::json;
using Ids = std::vector<int32_t>;

namespace {

std::shared_ptr<tok::HfTokenizer> make(json j) { return tok::HfTokenizer::from_json(j, "test"); }

json bpe_model(json vocab, json merges) {
  return {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}};
}

std::vector<std::string> split_texts(const std::string& s, tok::SplitBehavior b) {
  tok::Piece p;
  p.text = s;
  std::vector<tok::Piece> out;
  tok::split_piece(p, tok::spans_from_matches(tok::find_literal(s, "-"), s.size(), false), b, out);
  std::vector<std::string> texts;
  for (auto& q : out) texts.push_back(q.text);
  return texts;
}

}  // namespace

TEST_CASE("invalid UTF-8 becomes U+FFFD, one per maximal subpart", "[tokenizer][utf8]") {
  using tok::sanitize_utf8;
  CHECK(sanitize_utf8("abc") == "abc");
  CHECK(sanitize_utf8("\xff") == "\xEF\xBF\xBD");
  // E2 82 is the start of a 3-byte character cut short: one replacement, then 'b'.
  CHECK(sanitize_utf8("a\xE2\x82" "b") == "a\xEF\xBF\xBD" "b");
  // Overlong and surrogate encodings: every byte is its own ill-formed subpart.
  CHECK(sanitize_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sanitize_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(tok::is_valid_utf8("\xF0\x9F\x98\x80"));
  CHECK_FALSE(tok::is_valid_utf8("\xF0\x9F\x98"));
  // Streaming: an unfinished character at the end is held back, nothing else.
  CHECK(tok::complete_utf8_prefix("ab\xF0\x9F\x98") == 2);
  CHECK(tok::complete_utf8_prefix("ab\xF0\x9F\x98\x80") == 6);
  CHECK(tok::complete_utf8_prefix("ab\xFF") == 3);
  CHECK(tok::complete_utf8_prefix("") == 0);
}

TEST_CASE("split behaviours follow the tokenizers documentation", "[tokenizer][split]") {
  // tokenizers docs, SplitDelimiterBehavior, on "the-final--countdown" split at '-'.
  using B = tok::SplitBehavior;
  const std::string s = "the-final--countdown";
  CHECK(split_texts(s, B::kRemoved) == std::vector<std::string>{"the", "final", "countdown"});
  CHECK(split_texts(s, B::kIsolated) == std::vector<std::string>{"the", "-", "final", "-", "-", "countdown"});
  CHECK(split_texts(s, B::kMergedWithPrevious) == std::vector<std::string>{"the-", "final-", "-", "countdown"});
  CHECK(split_texts(s, B::kMergedWithNext) == std::vector<std::string>{"the", "-final", "-", "-countdown"});
  CHECK(split_texts(s, B::kContiguous) == std::vector<std::string>{"the", "-", "final", "--", "countdown"});
}

TEST_CASE("BPE applies merges lowest rank first", "[tokenizer][bpe]") {
  // Ranks: "b c" (0) before "a b" (1): abc -> a + bc -> abc through "a bc" (2). Had "a b" gone
  // first the result would be "ab c" -> "ab" "c" (no merge "ab c").
  auto t = make({{"model", bpe_model({{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}},
                                     {"b c", "a b", "a bc"})}});
  CHECK(t->encode("abc") == Ids{5});
  CHECK(t->encode("ab") == Ids{3});
  CHECK(t->encode("cab") == Ids{2, 3});
  CHECK(t->encode("abab") == Ids{3, 3});  // no merge joins "ab ab"
  CHECK(t->decode({5, 2}) == "abc c");     // no decoder: tokens joined by spaces
  // Characters outside the vocabulary are dropped when there is no unk token; the neighbours then
  // merge as if adjacent (tokenizers does the same).
  CHECK(t->encode("axb") == Ids{3});
}

TEST_CASE("BPE byte fallback and unk fusing", "[tokenizer][bpe]") {
  json vocab = {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}};
  auto t = make({{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}, {"unk_token", "<unk>"},
                            {"byte_fallback", true}, {"fuse_unk", true}}},
                 {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}}}});
  // é = C3 A9 has both byte tokens; ü (C3 BC) lacks <0xBC>, so it is unk; two unks in a row fuse.
  CHECK(t->encode("a\xC3\xA9" "a") == Ids{1, 2, 3, 1});
  CHECK(t->encode("\xC3\xBC\xC3\xBC" "a") == Ids{0, 1});
  CHECK(t->decode({1, 2, 3}) == "a\xC3\xA9");
  // A lone byte that is not UTF-8 decodes to one U+FFFD per byte.
  CHECK(t->decode({2, 1}) == "\xEF\xBF\xBD" "a");
  CHECK(t->token_bytes(2) == "\xC3");
}

TEST_CASE("WordPiece splits greedily by longest prefix", "[tokenizer][wordpiece]") {
  // The BERT paper's example: "unaffable" -> un ##aff ##able.
  json vocab = {{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"##a", 4}, {"aff", 5}};
  auto t = make({{"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"},
                            {"continuing_subword_prefix", "##"}, {"max_input_chars_per_word", 10}}},
                 {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
                 {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}}});
  CHECK(t->encode("unaffable") == Ids{1, 2, 3});
  CHECK(t->encode("unaffablex aff") == Ids{0, 5});        // cannot finish -> whole word unk
  CHECK(t->encode("unaffableunaffable") == Ids{0});       // longer than max_input_chars_per_word
  CHECK(t->decode({1, 2, 3, 5}) == "unaffable aff");
}

TEST_CASE("added tokens: longest match, lstrip/rstrip, single_word", "[tokenizer][added]") {
  json vocab = {{"a", 0}, {"b", 1}, {" ", 2}};
  json added = json::array({
      {{"id", 10}, {"content", "<x>"}, {"special", true}, {"normalized", false}},
      {{"id", 11}, {"content", "<x>y"}, {"special", false}, {"normalized", false}},
      {{"id", 12}, {"content", "[L]"}, {"special", true}, {"normalized", false}, {"lstrip", true}},
      {{"id", 13}, {"content", "[R]"}, {"special", true}, {"normalized", false}, {"rstrip", true}},
      {{"id", 14}, {"content", "ab"}, {"special", false}, {"normalized", false}, {"single_word", true}},
  });
  auto t = make({{"model", bpe_model(vocab, json::array())}, {"added_tokens", added}});
  CHECK(t->encode("a<x>b") == Ids{0, 10, 1});
  CHECK(t->encode("a<x>yb") == Ids{0, 11, 1});          // the longer token wins
  CHECK(t->encode("a  [L]b") == Ids{0, 12, 1});         // spaces before [L] go with it
  CHECK(t->encode("a[R]  b") == Ids{0, 13, 1});         // spaces after [R] go with it
  CHECK(t->encode("ab a") == Ids{14, 2, 0});            // a word of its own
  CHECK(t->encode("aab") == Ids{0, 0, 1});              // inside a word: not the added token
  CHECK(t->decode({0, 10, 1}, true) == "a b");
  CHECK(t->decode({0, 10, 1}, false) == "a <x> b");
  CHECK(t->is_special(10));
  CHECK_FALSE(t->is_special(11));
  CHECK(t->token_to_id("<x>y") == 11);
  CHECK(t->vocab_size() == 15);
}

TEST_CASE("streaming decode holds back half characters", "[tokenizer][incremental]") {
  // A byte-level vocabulary where the emoji U+1F600 (F0 9F 98 80) is four byte tokens.
  const auto& b2u = tok::byte_to_unicode();
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[b2u[b]] = b;
  auto t = make({{"model", bpe_model(vocab, json::array())},
                 {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                 {"decoder", {{"type", "ByteLevel"}}}});
  const Ids ids = t->encode("a\xF0\x9F\x98\x80!");
  REQUIRE(ids == Ids{'a', 0xF0, 0x9F, 0x98, 0x80, '!'});
  IncrementalDecoder d(t);
  CHECK(d.push(ids[0]) == "a");
  CHECK(d.push(ids[1]).empty());
  CHECK(d.push(ids[2]).empty());
  CHECK(d.push(ids[3]).empty());
  CHECK(d.push(ids[4]) == "\xF0\x9F\x98\x80");
  CHECK(d.push(ids[5]) == "!");
  CHECK(d.flush().empty());
  // An unfinished character at the end comes out of flush() as U+FFFD.
  IncrementalDecoder e(t);
  CHECK(e.push(0xF0).empty());
  CHECK(e.flush() == "\xEF\xBF\xBD");
  // Invalid input text is encoded as if it held U+FFFD.
  CHECK(t->encode("x\xFFy") == t->encode("x\xEF\xBF\xBDy"));
}
