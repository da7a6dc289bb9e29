// Resumable construction of a routing table: sample and score each missing (query, model) cell.
#include <fmt/format.h>

#include <fstream>
#include <set>

#include "breadth/router_pipeline.hpp"
#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth {

namespace {

/// Reads the cells already in `path`. An unterminated last line is a write cut short: kept (and
/// terminated) when it parses, cut off otherwise. Anything else unparsable is a FormatError.
std::set<std::pair<std::string, std::string>> finished_cells(const std::string& path) {
  std::set<std::pair<std::string, std::string>> done;
  if (!files::exists(path)) return done;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail<IoError>("cannot read '{}'", path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t pos = 0, line_no = 0;
  std::string fixed;  // what the file should hold
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ++line_no;
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (end == std::string::npos) {
      std::string tail = text.substr(pos);
      if (tail.find_first_not_of(" \t\r") != std::string::npos) {
        try {
          auto r = parse_routing_row(tail, where);
          done.emplace(r.query_id, r.model);
          fixed = text + "\n";
        } catch (const FormatError&) {
          fixed = text.substr(0, pos);
        }
      } else {
        fixed = text.substr(0, pos);
      }
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << fixed;
      if (!out) fail<IoError>("cannot rewrite '{}'", path);
      return done;
    }
    std::string line = text.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      auto r = parse_routing_row(line, where);
      done.emplace(r.query_id, r.model);
    }
    pos = end + 1;
  }
  return done;
}

}  // namespace

int64_t build_routing_data(const std::vector<std::pair<std::string, std::string>>& queries,
                           const std::vector<std::string>& models, const AnswerSampler& sample,
                           const SetScorer& score, const std::string& out_path, const BuildDataOptions& options) {
  BREADTH_CHECK_ARG(sample && score, "build_routing_data: needs an answer sampler and a scorer");
  BREADTH_CHECK_ARG(!queries.empty() && !models.empty(), "build_routing_data: no queries or no models");
  std::set<std::string> ids;
  for (const auto& q : queries) BREADTH_CHECK_ARG(ids.insert(q.first).second, "query id '{}' appears twice", q.first);
  auto done = finished_cells(out_path);
  int64_t total = 0;
  for (const auto& m : models)
    for (const auto& q : queries) total += done.count({q.first, m}) ? 0 : 1;
  std::ofstream out(out_path, std::ios::binary | std::ios::app);
  if (!out) fail<IoError>("cannot append to '{}'; check that the folder exists and is writable", out_path);
  int64_t computed = 0;
  for (const auto& m : models) {
    for (const auto& [id, text] : queries) {
      if (done.count({id, m})) continue;
      RoutingRow r;
      r.query_id = id;
      r.query = text;
      r.model = m;
      r.answers = sample(text, m);
      r.figures = score(text, r.answers);
      out << routing_row_json(r) << '\n';
      out.flush();
      if (!out) fail<IoError>("failed writing '{}' (disk full?)", out_path);
      ++computed;
      if (options.on_progress && !options.on_progress(computed, total, m))
        fail<Cancelled>("building routing data cancelled after {} of {} cells", computed, total);
    }
  }
  return computed;
}

}  // namespace breadth
