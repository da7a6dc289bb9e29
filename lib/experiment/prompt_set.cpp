// Prompt sets (NoveltyBench's JSONL or plain text), shards, and the JSONL files a run appends to.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "breadth/experiment.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); });
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

}  // namespace

PromptSet load_prompt_set(const std::string& path, int64_t limit) {
  auto text = files::try_read_file(path);
  if (!text) fail<IoError>("cannot read the prompt file '{}'", path);
  const auto lines = split_lines(*text);
  bool jsonl = false;
  for (const auto& line : lines) {
    if (blank(line)) continue;
    const auto first = line.find_first_not_of(" \t");
    jsonl = line[first] == '{';
    break;
  }
  PromptSet set;
  std::set<std::string> ids;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (limit > 0 && static_cast<int64_t>(set.prompts.size()) >= limit) break;
    const std::string& line = lines[i];
    if (blank(line)) continue;
    const std::string where = fmt::format("{}:{}", path, i + 1);
    std::string id, prompt;
    if (!jsonl) {
      id = fmt::format("line-{}", i + 1);
      prompt = line;
    } else {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        set.skipped.push_back(where + ": not a JSON object");
        continue;
      }
      if (!j.is_object()) {
        set.skipped.push_back(where + ": not a JSON object");
        continue;
      }
      for (const char* key : {"id", "query_id"}) {
        if (!j.contains(key)) continue;
        if (j[key].is_string()) id = j[key].get<std::string>();
        else if (j[key].is_number_integer()) id = std::to_string(j[key].get<int64_t>());
        break;
      }
      if (id.empty()) id = fmt::format("line-{}", i + 1);
      for (const char* key : {"prompt", "query", "text"}) {
        if (j.contains(key) && j[key].is_string()) {
          prompt = j[key].get<std::string>();
          break;
        }
      }
      if (prompt.empty()) {
        set.skipped.push_back(where + ": no \"prompt\" string");
        continue;
      }
    }
    if (!ids.insert(id).second) {
      set.skipped.push_back(fmt::format("{}: id '{}' appears earlier in the file", where, id));
      continue;
    }
    set.ids.push_back(id);
    set.prompts.push_back(prompt);
  }
  BREADTH_CHECK_ARG(!set.prompts.empty(), "the prompt file '{}' holds no readable prompt{}", path,
                    set.skipped.empty() ? "" : " (" + set.skipped.front() + ")");
  return set;
}

Shard Shard::parse(const std::string& text, const std::string& what) {
  const auto slash = text.find('/');
  Shard s;
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < text.size();
  if (ok) {
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    ok = std::all_of(a.begin(), a.end(), ::isdigit) && std::all_of(b.begin(), b.end(), ::isdigit) && a.size() < 10 &&
         b.size() < 10;
    if (ok) {
      s.index = std::stoll(a);
      s.count = std::stoll(b);
      ok = s.count >= 1 && s.index < s.count;
    }
  }
  BREADTH_CHECK_ARG(ok, "{}: expected I/N with 0 <= I < N (e.g. 0/4), got '{}'", what, text);
  return s;
}

namespace jsonl {

std::vector<std::string> repair_and_read(const std::string& path) {
  if (!files::exists(path)) return {};
  std::string text = files::read_file(path);
  const auto last = text.rfind('\n');
  const size_t keep = last == std::string::npos ? 0 : last + 1;
  if (keep != text.size()) {
    files::resize_file(path, keep);
    text.resize(keep);
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void truncate_lines(const std::string& path, size_t lines) {
  if (!files::exists(path)) return;
  const std::string text = files::read_file(path);
  size_t pos = 0;
  for (size_t i = 0; i < lines; ++i) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) return;
    pos = nl + 1;
  }
  if (pos < text.size()) files::resize_file(path, pos);
}

}  // namespace jsonl
}  // namespace breadth
