// Reading the fixture written by make_tokenizer_refs.py: the corpus and, per tokenizer, the
// reference ids and decodes from Hugging Face tokenizers.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "common/test_env.hpp"

namespace breadth::test {

struct RefLine {
  std::vector<int32_t> ids, ids_special;
  std::string decode, decode_skip;
};

struct RefSet {
  std::string name, path;
  std::vector<RefLine> lines;
};

inline std::string tokenizer_fixture_dir() { return fixtures_dir() + "/tokenizer_refs"; }

inline std::vector<std::string> read_corpus() {
  std::ifstream f(tokenizer_fixture_dir() + "/corpus.jsonl");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(nlohmann::json::parse(line).get<std::string>());
  return out;
}

inline std::vector<RefSet> read_ref_sets() {
  std::ifstream mf(tokenizer_fixture_dir() + "/manifest.json");
  std::vector<RefSet> out;
  if (!mf) return out;
  const auto manifest = nlohmann::json::parse(mf);
  for (const auto& m : manifest) {
    RefSet r;
    r.name = m.at("name").get<std::string>();
    r.path = m.at("path").get<std::string>();
    std::ifstream f(tokenizer_fixture_dir() + "/" + m.at("ref").get<std::string>());
    std::string line;
    while (std::getline(f, line)) {
      const auto j = nlohmann::json::parse(line);
      r.lines.push_back(RefLine{j.at("ids").get<std::vector<int32_t>>(), j.at("ids_special").get<std::vector<int32_t>>(),
                                j.at("decode").get<std::string>(), j.at("decode_skip").get<std::string>()});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace breadth::test
