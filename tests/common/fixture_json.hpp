// Reading a generated fixture's JSON file (tests of several components share it).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "common/test_env.hpp"

namespace breadth::test {

inline nlohmann::ordered_json read_fixture_json(const std::string& fixture, const std::string& file) {
  const std::string path = fixtures_dir() + "/" + fixture + "/" + file;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing fixture " + path + " (run the fixture_" + fixture + " test first)");
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::ordered_json::parse(ss.str());
}

}  // namespace breadth::test
