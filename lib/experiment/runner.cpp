// Running an experiment: the output folder, resuming, shards, and the loop over points and blocks.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "breadth/error.hpp"
#include "breadth/experiment.hpp"
#include "breadth/version.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {

using Json = nlohmann::ordered_json;

/// FNV-1a over a file's first MiB: enough to tell checkpoints apart without reading gigabytes.
uint64_t first_mib_hash(const std::string& path, uint64_t h = 1469598103934665603ull) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail<IoError>("cannot read the checkpoint file '{}'", path);
  std::string buf(1 << 20, '\0');
  const size_t got = std::fread(buf.data(), 1, buf.size(), f);
  std::fclose(f);
  for (size_t i = 0; i < got; ++i) {
    h ^= static_cast<unsigned char>(buf[i]);
    h *= 1099511628211ull;
  }
  return h;
}

/// Size and first-MiB hash of a checkpoint: a file, or a folder's regular files (names included).
Json checkpoint_identity(const std::string& path) {
  uint64_t bytes = 0, h = 1469598103934665603ull;
  if (files::is_directory(path)) {
    for (const auto& name : files::list_dir(path)) {
      const std::string p = files::join(path, name);
      if (!files::is_regular_file(p)) continue;
      for (char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
      }
      bytes += files::file_size(p);
      h = first_mib_hash(p, h);
    }
  } else {
    bytes = files::file_size(path);
    h = first_mib_hash(path, h);
  }
  return Json{{"bytes", bytes}, {"first_mib_fnv1a64", fmt::format("{:016x}", h)}};
}

size_t count_lines(const std::string& path) {
  if (!files::exists(path)) return 0;
  const std::string text = files::read_file(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string point_dir(const std::string& out, const ExperimentPoint& p) { return files::join(out, p.name); }

}  // namespace

Experiment::Experiment(ExperimentSpec spec)
    : spec_(std::move(spec)), points_(experiment_points(spec_)), prompts_(load_prompt_set(spec_.prompts, spec_.limit)) {}

int64_t Experiment::num_blocks() const {
  const int64_t n = static_cast<int64_t>(prompts_.prompts.size());
  return (n + spec_.batch_size - 1) / spec_.batch_size;
}

std::pair<int64_t, int64_t> Experiment::block_range(int64_t b) const {
  const int64_t n = static_cast<int64_t>(prompts_.prompts.size());
  return {std::min(n, b * spec_.batch_size), std::min(n, (b + 1) * spec_.batch_size)};
}

std::string resolved_experiment_text(const Experiment& e, const Shard& shard) {
  Json j = resolved_experiment_json(e.spec());
  Json checkpoints = Json::object();
  for (const auto& m : e.spec().models) checkpoints[m.name] = checkpoint_identity(m.path);
  Json resolved;
  resolved["breadth_version"] = BREADTH_VERSION_STRING;
  resolved["num_prompts"] = e.prompts().prompts.size();
  resolved["skipped_prompt_lines"] = e.prompts().skipped;
  resolved["shard"] = fmt::format("{}/{}", shard.index, shard.count);
  resolved["checkpoints"] = checkpoints;
  Json points = Json::array();
  for (const auto& p : e.points()) points.push_back(p.name);
  resolved["points"] = points;
  j[kResolvedKey] = resolved;
  return j.dump(2) + "\n";
}

namespace {

/// Why a folder's experiment.json cannot be continued by `fresh`, or "" when it can: everything that
/// decides the answers already written must be equal (prompts, n, lengths, seed, blocks, shard, the
/// checkpoints, and each method both name). Methods may be added or dropped and the evaluation
/// changed: the run then generates the new points and re-evaluates.
std::string incompatibility(const Json& old, const Json& fresh) {
  for (const char* key : {"prompts", "limit", "n", "max_new_tokens", "seed", "batch_size", "models"})
    if (old.value(key, Json()) != fresh.value(key, Json())) return fmt::format("\"{}\" differs", key);
  const Json& a = old.value(kResolvedKey, Json::object());
  const Json& b = fresh.value(kResolvedKey, Json::object());
  for (const char* key : {"num_prompts", "shard", "checkpoints"})
    if (a.value(key, Json()) != b.value(key, Json()))
      return fmt::format("resolved.{} differs{}", key, std::string(key) == "checkpoints" ? " (a checkpoint changed)" : "");
  for (const auto& m : old.value("methods", Json::array()))
    for (const auto& n : fresh.value("methods", Json::array()))
      if (m.value("name", "") == n.value("name", "") && m != n)
        return fmt::format("method '{}' differs", m.value("name", ""));
  return "";
}

}  // namespace

void Experiment::prepare(const std::string& out, const Shard& shard) const {
  try {
    files::make_dirs(out);
  } catch (const IoError& e) {
    fail<IoError>("cannot create the output folder '{}' ({}); choose a writable --out", out, e.what());
  }
  const std::string path = files::join(out, "experiment.json");
  const std::string text = resolved_experiment_text(*this, shard);
  if (auto old = files::try_read_file(path)) {
    if (*old == text) return;
    Json old_json;
    try {
      old_json = Json::parse(*old);
    } catch (const nlohmann::json::exception&) {
      fail<FormatError>("'{}' is not valid JSON; it was not written by breadth", path);
    }
    const std::string why = incompatibility(old_json, Json::parse(text));
    if (!why.empty())
      fail("'{}' holds a run of another experiment ({}); resume with the same file, shard and checkpoints, or "
           "choose a new --out",
           out, why);
  }
  files::write_file_atomic(path, text);
}

namespace {
/// The prompts of `shard` in its file order: its blocks' prompts, block by block.
std::vector<int64_t> shard_prompts(const Experiment& e, const Shard& shard) {
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < e.num_blocks(); ++b) {
    if (!shard.owns_block(b)) continue;
    auto [first, last] = e.block_range(b);
    for (int64_t i = first; i < last; ++i) rows.push_back(i);
  }
  return rows;
}
}  // namespace

std::vector<int64_t> Experiment::pending_blocks(const std::string& out, size_t p, const Shard& shard) const {
  BREADTH_CHECK_ARG(p < points_.size(), "pending_blocks: point {} of {}", p, points_.size());
  const std::string dir = point_dir(out, points_[p]);
  const std::string gen = files::join(dir, "generations.jsonl");
  const auto lines = jsonl::repair_and_read(gen);
  const auto rows = shard_prompts(*this, shard);
  BREADTH_CHECK_FORMAT(lines.size() <= rows.size(), "'{}' holds {} lines but the shard has {} prompts", gen,
                       lines.size(), rows.size());
  for (size_t k = 0; k < lines.size(); ++k) {
    std::string id;
    try {
      id = nlohmann::json::parse(lines[k]).at("id").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      fail<FormatError>("{}:{}: not a generations line of breadth's; choose a new --out", gen, k + 1);
    }
    BREADTH_CHECK_FORMAT(id == prompts_.ids[rows[k]], "{}:{}: holds prompt '{}' where '{}' belongs; the folder "
                         "belongs to another run, choose a new --out", gen, k + 1, id, prompts_.ids[rows[k]]);
  }
  // Provenance is appended before its generations line: cut what a crash left ahead of it.
  jsonl::repair_and_read(files::join(dir, "provenance.jsonl"));
  jsonl::truncate_lines(files::join(dir, "provenance.jsonl"), lines.size());
  std::vector<int64_t> pending;
  size_t seen = 0;
  for (int64_t b = 0; b < num_blocks(); ++b) {
    if (!shard.owns_block(b)) continue;
    auto [first, last] = block_range(b);
    seen += static_cast<size_t>(last - first);
    if (seen > lines.size()) pending.push_back(b);
  }
  return pending;
}

void Experiment::commit_block(const std::string& out, size_t p, int64_t block,
                              const std::vector<PromptOutput>& outputs) const {
  BREADTH_CHECK_ARG(p < points_.size(), "commit_block: point {} of {}", p, points_.size());
  const auto [first, last] = block_range(block);
  BREADTH_CHECK_ARG(static_cast<int64_t>(outputs.size()) == last - first,
                    "commit_block: block {} has {} prompts, got {} outputs", block, last - first, outputs.size());
  const std::string dir = point_dir(out, points_[p]);
  files::make_dirs(dir);
  const std::string gen = files::join(dir, "generations.jsonl"), prov = files::join(dir, "provenance.jsonl");
  // Where this block starts in the file: the prompts of the shard's earlier blocks. The shard is the
  // one experiment.json names.
  Shard shard;
  if (auto text = files::try_read_file(files::join(out, "experiment.json")))
    shard = Shard::parse(nlohmann::json::parse(*text)[kResolvedKey]["shard"].get<std::string>(), "experiment.json");
  BREADTH_CHECK_ARG(shard.owns_block(block), "commit_block: block {} belongs to another shard than {}/{}", block,
                    shard.index, shard.count);
  size_t start = 0;
  for (int64_t b = 0; b < block; ++b)
    if (shard.owns_block(b)) {
      auto [f, l] = block_range(b);
      start += static_cast<size_t>(l - f);
    }
  const size_t have = count_lines(gen);
  BREADTH_CHECK_ARG(have >= start, "commit_block: '{}' has {} lines; the blocks before block {} are not committed",
                    gen, have, block);
  for (size_t k = have - start; k < outputs.size(); ++k) {
    if (!outputs[k].provenance_line.empty()) files::append_durably(prov, outputs[k].provenance_line + "\n");
    files::append_durably(gen, outputs[k].generations_line + "\n");
  }
}

int64_t ExperimentSummary::failed() const {
  return std::count_if(points.begin(), points.end(), [](const PointSummary& p) { return !p.error.empty(); });
}

std::optional<double> PointSummary::figure(const std::string& key) const {
  for (const auto& [k, v] : figures)
    if (k == key) return v;
  return std::nullopt;
}

ExperimentSummary Experiment::run(const std::string& out, const RunOptions& options) const {
  auto say = [&](const std::string& m) {
    if (options.on_message) options.on_message(m);
  };
  prepare(out, options.shard);
  for (const auto& s : prompts_.skipped) say("skipped prompt line " + s);

  std::vector<std::vector<int64_t>> pending(points_.size());
  int64_t total = 0, done = 0;
  for (size_t p = 0; p < points_.size(); ++p) {
    pending[p] = pending_blocks(out, p, options.shard);
    for (int64_t b : pending[p]) {
      auto [first, last] = block_range(b);
      total += last - first;
    }
  }
  const int64_t owned = static_cast<int64_t>(shard_prompts(*this, options.shard).size());
  if (total < owned * static_cast<int64_t>(points_.size()) && total > 0)
    say(fmt::format("resuming: {} of {} prompt × point cells left", total, owned * static_cast<int64_t>(points_.size())));

  // Which points still need each model, so a model is freed after its last point.
  auto models_of = [&](size_t p) {
    const auto& m = spec_.methods[points_[p].method];
    std::vector<std::string> names = {m.model, m.base, m.aligned};
    names.insert(names.end(), m.pool.begin(), m.pool.end());
    return names;
  };
  ModelCache models(spec_);
  std::map<std::string, std::string> errors;
  Json timing = Json::object();
  for (size_t p = 0; p < points_.size(); ++p) {
    const std::string dir = point_dir(out, points_[p]);
    const std::string error_file = files::join(dir, "error.txt");
    if (pending[p].empty()) {
      files::remove_file(error_file);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    int64_t tokens = 0;
    try {
      for (int64_t b : pending[p]) {
        auto outputs = generate_block(p, b, models);
        commit_block(out, p, b, outputs);
        for (const auto& o : outputs) tokens += o.tokens;
        auto [first, last] = block_range(b);
        done += last - first;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (options.on_progress &&
            !options.on_progress(done, total, fmt::format("{} · {:.0f} tok/s", points_[p].name, secs > 0 ? tokens / secs : 0.0)))
          fail<Cancelled>("the experiment was cancelled; rerun the same command to continue");
      }
      files::remove_file(error_file);
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      errors[points_[p].name] = e.what();
      files::make_dirs(dir);
      files::write_file_atomic(error_file, std::string(e.what()) + "\n");
      say(fmt::format("point {} failed: {}", points_[p].name, e.what()));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timing[points_[p].name] = Json{{"seconds", secs}, {"tokens", tokens}, {"tokens_per_second", secs > 0 ? tokens / secs : 0.0}};
    // Free the models no later point uses.
    std::set<std::string> later;
    for (size_t q = p + 1; q < points_.size(); ++q)
      for (const auto& n : models_of(q)) later.insert(n);
    models.keep_only(later);
  }
  if (!timing.empty()) files::write_file_atomic(files::join(out, "timing.json"), timing.dump(2) + "\n");

  ExperimentSummary summary;
  if (options.evaluate) {
    summary = evaluate(out);
  } else {
    for (const auto& p : points_) summary.points.push_back({p.name, spec_.methods[p.method].name, spec_.methods[p.method].kind, {}, ""});
  }
  for (auto& ps : summary.points)
    if (errors.count(ps.name)) ps.error = errors[ps.name];
  return summary;
}

}  // namespace breadth
