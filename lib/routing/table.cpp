// Routing tables: JSONL rows <-> [Q, M] matrices of div-cov and its companion figures.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <unordered_map>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

namespace {

double number_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  BREADTH_CHECK_FORMAT(it != j.end() && it->is_number(),
                       "{}: missing or non-numeric \"{}\" (each row needs query_id, query, model, "
                       "div_cov, unq, qual, unq_qual)", where, key);
  return it->get<double>();
}

std::string string_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  BREADTH_CHECK_FORMAT(it != j.end() && it->is_string(), "{}: missing or non-string \"{}\"", where, key);
  return it->get<std::string>();
}

}  // namespace

RoutingRow parse_routing_row(const std::string& line, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", where, e.what());
  }
  BREADTH_CHECK_FORMAT(j.is_object(), "{}: expected a JSON object", where);
  RoutingRow r;
  // query_id may be written as a number by other tools; accept both.
  auto id = j.find("query_id");
  BREADTH_CHECK_FORMAT(id != j.end() && (id->is_string() || id->is_number_integer()),
                       "{}: missing \"query_id\" (string or integer)", where);
  r.query_id = id->is_string() ? id->get<std::string>() : std::to_string(id->get<int64_t>());
  r.query = string_field(j, "query", where);
  r.model = string_field(j, "model", where);
  r.figures.div_cov = number_field(j, "div_cov", where);
  r.figures.unq = number_field(j, "unq", where);
  r.figures.qual = number_field(j, "qual", where);
  r.figures.unq_qual = number_field(j, "unq_qual", where);
  if (auto a = j.find("answers"); a != j.end() && !a->is_null()) {
    BREADTH_CHECK_FORMAT(a->is_array(), "{}: \"answers\" must be an array of strings", where);
    for (const auto& s : *a) {
      BREADTH_CHECK_FORMAT(s.is_string(), "{}: \"answers\" must be an array of strings", where);
      r.answers.push_back(s.get<std::string>());
    }
  }
  return r;
}

std::string routing_row_json(const RoutingRow& r) {
  nlohmann::json j = {{"query_id", r.query_id},      {"query", r.query},
                      {"model", r.model},            {"div_cov", r.figures.div_cov},
                      {"unq", r.figures.unq},        {"qual", r.figures.qual},
                      {"unq_qual", r.figures.unq_qual}, {"answers", r.answers}};
  // Answers come from models and may hold invalid UTF-8; replace rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RoutingTable make_routing_table(const std::vector<RoutingRow>& rows, const TableOptions& options) {
  RoutingTable t;
  std::unordered_map<std::string, int64_t> qidx, midx;
  for (const auto& m : options.pool) {
    BREADTH_CHECK_ARG(!midx.count(m), "TableOptions::pool names model '{}' twice", m);
    midx.emplace(m, static_cast<int64_t>(t.models.size()));
    t.models.push_back(m);
  }
  for (const auto& r : rows) {
    if (!qidx.count(r.query_id)) {
      qidx.emplace(r.query_id, static_cast<int64_t>(t.query_ids.size()));
      t.query_ids.push_back(r.query_id);
      t.queries.push_back(r.query);
    } else {
      BREADTH_CHECK_ARG(t.queries[qidx[r.query_id]] == r.query,
                        "query '{}' has two different texts in the table; query ids must be unique",
                        r.query_id);
    }
    if (!midx.count(r.model)) {
      BREADTH_CHECK_ARG(options.pool.empty(), "model '{}' (query '{}') is not in the pool [{}]",
                        r.model, r.query_id, routing::join_names(options.pool));
      midx.emplace(r.model, static_cast<int64_t>(t.models.size()));
      t.models.push_back(r.model);
    }
  }
  const int64_t Q = t.num_queries(), M = t.num_models();
  BREADTH_CHECK_ARG(Q > 0 && M > 0, "routing table has no rows");
  std::vector<const RoutingRow*> cell(static_cast<size_t>(Q * M), nullptr);
  for (const auto& r : rows) {
    auto& c = cell[static_cast<size_t>(qidx[r.query_id] * M + midx[r.model])];
    BREADTH_CHECK_ARG(c == nullptr, "query '{}' has two rows for model '{}'", r.query_id, r.model);
    c = &r;
  }
  std::vector<int64_t> keep;
  for (int64_t q = 0; q < Q; ++q) {
    bool complete = true;
    for (int64_t m = 0; m < M; ++m) {
      if (cell[static_cast<size_t>(q * M + m)]) continue;
      BREADTH_CHECK_ARG(options.drop_incomplete,
                        "query '{}' has no row for model '{}'; every query needs every model (or "
                        "set drop_incomplete)", t.query_ids[q], t.models[m]);
      complete = false;
    }
    if (complete) keep.push_back(q);
  }
  BREADTH_CHECK_ARG(!keep.empty(), "no query has rows for all {} models", M);
  const int64_t K = static_cast<int64_t>(keep.size());
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  RoutingTable out;
  out.models = t.models;
  out.div_cov = torch::zeros({K, M}, opts);
  out.unq = torch::zeros({K, M}, opts);
  out.qual = torch::zeros({K, M}, opts);
  out.unq_qual = torch::zeros({K, M}, opts);
  auto dc = out.div_cov.accessor<double, 2>(), un = out.unq.accessor<double, 2>(),
       qu = out.qual.accessor<double, 2>(), uq = out.unq_qual.accessor<double, 2>();
  out.answers.assign(static_cast<size_t>(K), std::vector<std::vector<std::string>>(static_cast<size_t>(M)));
  for (int64_t k = 0; k < K; ++k) {
    int64_t q = keep[k];
    out.query_ids.push_back(t.query_ids[q]);
    out.queries.push_back(t.queries[q]);
    for (int64_t m = 0; m < M; ++m) {
      const RoutingRow& r = *cell[static_cast<size_t>(q * M + m)];
      dc[k][m] = r.figures.div_cov;
      un[k][m] = r.figures.unq;
      qu[k][m] = r.figures.qual;
      uq[k][m] = r.figures.unq_qual;
      out.answers[k][m] = r.answers;
    }
  }
  return out;
}

RoutingTable load_routing_table(const std::string& path, const TableOptions& options) {
  std::ifstream in(path);
  if (!in) fail<IoError>("cannot open routing table '{}'; check the path", path);
  std::vector<RoutingRow> rows;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rows.push_back(parse_routing_row(line, fmt::format("{}:{}", path, n)));
  }
  BREADTH_CHECK_FORMAT(!rows.empty(), "routing table '{}' has no rows", path);
  return make_routing_table(rows, options);
}

bool RoutingTable::has_answers() const {
  if (answers.empty()) return false;
  for (const auto& q : answers)
    for (const auto& a : q)
      if (a.empty()) return false;
  return true;
}

SetFigures RoutingTable::figures(int64_t q, int64_t m) const {
  BREADTH_CHECK_ARG(q >= 0 && q < num_queries() && m >= 0 && m < num_models(),
                    "RoutingTable::figures: cell ({}, {}) outside [{}, {}]", q, m, num_queries(),
                    num_models());
  return {unq[q][m].item<double>(), qual[q][m].item<double>(), unq_qual[q][m].item<double>(),
          div_cov[q][m].item<double>()};
}

RoutingTable RoutingTable::select(const std::vector<int64_t>& rows) const {
  RoutingTable t;
  t.models = models;
  for (auto r : rows)
    BREADTH_CHECK_ARG(r >= 0 && r < num_queries(), "RoutingTable::select: row {} outside [0, {})", r,
                      num_queries());
  auto idx = torch::tensor(rows, torch::kLong);
  t.div_cov = div_cov.index_select(0, idx);
  t.unq = unq.index_select(0, idx);
  t.qual = qual.index_select(0, idx);
  t.unq_qual = unq_qual.index_select(0, idx);
  for (auto r : rows) {
    t.query_ids.push_back(query_ids[r]);
    t.queries.push_back(queries[r]);
    t.answers.push_back(answers.empty() ? std::vector<std::vector<std::string>>(models.size())
                                        : answers[r]);
  }
  return t;
}

std::string routing::join_names(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

}  // namespace breadth
