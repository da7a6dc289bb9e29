// The tokenizer test vocabularies of llama.cpp (../shared/data/llamacpp-vocab): a GGUF vocabulary
// per model, its test inputs, and the ids Hugging Face `tokenizers` gives for them with the model's
// own tokenizer. Every input must come out exactly; a missing file fails (it is part of the shared
// data, see that folder's README).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"

using namespace breadth;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) FAIL("cannot read " << path << ": the llama.cpp vocabulary files belong in ../shared/data/llamacpp-vocab");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Inputs separated by "\n__ggml_vocab_test__\n" (the file ends with one).
std::vector<std::string> read_inputs(const std::string& path) {
  const std::string text = read_file(path), sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + sep.size())
    out.push_back(text.substr(start, at - start));
  REQUIRE(start == text.size());
  return out;
}

std::vector<std::vector<int32_t>> read_ids(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::vector<int32_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

std::string escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += c < 0x20 ? fmt::format("\\x{:02x}", c) : std::string(1, static_cast<char>(c));
  return out;
}

void check_vocab(const std::string& name) {
  const std::string base = test::shared_dir() + "/data/llamacpp-vocab/ggml-vocab-" + name + ".gguf";
  INFO(base);
  const auto inputs = read_inputs(base + ".inp");
  const auto expected = read_ids(base + ".out");
  REQUIRE(inputs.size() == expected.size());
  const auto tok = Tokenizer::load(base);
  size_t exact = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto ids = tok->encode(inputs[i], false);
    if (ids == expected[i]) {
      ++exact;
      continue;
    }
    UNSCOPED_INFO(fmt::format("input {} '{}': breadth [{}], HF [{}]", i, escaped(inputs[i]), fmt::join(ids, " "),
                              fmt::join(expected[i], " ")));
  }
  INFO(fmt::format("{}: {} of {} inputs exact", name, exact, inputs.size()));
  CHECK(exact == inputs.size());
}

}  // namespace

TEST_CASE("llama.cpp vocab: llama-spm (SentencePiece)", "[tokenizer][gguf][llamacpp]") { check_vocab("llama-spm"); }
TEST_CASE("llama.cpp vocab: falcon (BPE, pre falcon)", "[tokenizer][gguf][llamacpp]") { check_vocab("falcon"); }
TEST_CASE("llama.cpp vocab: bert-bge (WordPiece)", "[tokenizer][gguf][llamacpp]") { check_vocab("bert-bge"); }

TEST_CASE("llama.cpp vocab: a GGUF is recognised by its magic, whatever its name", "[tokenizer][gguf][llamacpp]") {
  const std::string src = test::shared_dir() + "/data/llamacpp-vocab/ggml-vocab-llama-spm.gguf";
  const std::string dir = test::fixtures_dir() + "/llamacpp_vocab_magic";
  files::make_dirs(dir);
  const std::string renamed = dir + "/vocab.bin";
  {
    std::ofstream out(renamed, std::ios::binary);
    out << read_file(src);
  }
  const auto a = Tokenizer::load(src), b = Tokenizer::load(renamed);
  CHECK(b->vocab_size() == a->vocab_size());
  CHECK(b->encode(" Hello world", true) == a->encode(" Hello world", true));
}
