// CausalLM's entry points that do not depend on the family: load() dispatch and the convenience
// wrappers over forward().
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "core/check.hpp"
#include "core/files.hpp"
#include "io/gguf.hpp"
#include "model/arch.hpp"
#include "model/decoder.hpp"
#include "model/gguf_model.hpp"
#include "model/weights.hpp"

namespace breadth {

namespace {

std::shared_ptr<CausalLM> load_hf_dir(const std::string& dir, const ModelOptions& options) {
  const std::string config = files::join(dir, "config.json");
  if (!files::exists(config))
    fail<IoError>("'{}' has no config.json; a Hugging Face checkpoint directory needs one (or pass "
                  "a .gguf file)",
                  dir);
  std::ifstream in(config);
  if (!in) fail<IoError>("cannot read '{}'", config);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  BREADTH_CHECK_FORMAT(!j.is_discarded(), "'{}' is not valid JSON", config);
  model::ArchConfig arch;
  try {
    arch = model::parse_hf_config(j, config);
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("'{}': unexpected field type ({})", config, e.what());
  }
  model::validate_options(options);
  auto files = model::open_safetensors_dir(dir);
  std::unique_ptr<model::WeightSource> tower;
  if (arch.text_tower) tower = model::text_tower_source(*files);
  const model::WeightSource& weights = tower ? *tower : *files;
  std::string tok;
  if (files::exists(files::join(dir, "tokenizer.json")) || files::exists(files::join(dir, "tokenizer.model")))
    tok = dir;
  return model::make_decoder(std::move(arch), weights, options, tok);
}

}  // namespace

std::shared_ptr<CausalLM> CausalLM::load(const std::string& path, const ModelOptions& options) {
  if (files::is_directory(path)) return load_hf_dir(path, options);
  if (!files::exists(path))
    fail<IoError>("model path '{}' does not exist; give a Hugging Face directory or a .gguf file",
                  path);
  if (io::is_gguf_file(path)) return model::load_gguf_model(path, options);
  fail<FormatError>("'{}' is neither a directory (Hugging Face checkpoint) nor a GGUF file (no "
                    "'GGUF' magic)",
                    path);
}

const std::vector<std::string>& CausalLM::supported_architectures() {
  return model::supported_architectures();
}

torch::Tensor CausalLM::prefill(KvCache& cache, const std::vector<std::vector<int32_t>>& prompts) const {
  BREADTH_CHECK_ARG(!prompts.empty(), "prefill: no prompts given");
  size_t longest = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    BREADTH_CHECK_ARG(!prompts[i].empty(), "prefill: prompt {} is empty", i);
    longest = std::max(longest, prompts[i].size());
  }
  const int64_t B = static_cast<int64_t>(prompts.size()), T = static_cast<int64_t>(longest);
  // Left padding keeps every row's last token in the last column.
  auto ids = torch::zeros({B, T}, torch::kInt64);
  auto valid = torch::zeros({B, T}, torch::kBool);
  auto ia = ids.accessor<int64_t, 2>();
  auto va = valid.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& pr = prompts[static_cast<size_t>(b)];
    const int64_t off = T - static_cast<int64_t>(pr.size());
    for (size_t t = 0; t < pr.size(); ++t) {
      ia[b][off + static_cast<int64_t>(t)] = pr[t];
      va[b][off + static_cast<int64_t>(t)] = true;
    }
  }
  // Equal lengths need no mask at all (the cache then stays padding-free, the fast path).
  bool ragged = false;
  for (const auto& pr : prompts) ragged = ragged || pr.size() != longest;
  return forward(cache, ids, ragged ? valid : torch::Tensor()).logits;
}

torch::Tensor CausalLM::decode(KvCache& cache, const torch::Tensor& next_ids) const {
  BREADTH_CHECK_ARG(next_ids.defined() && next_ids.dim() == 1,
                    "decode: next_ids must be a [batch] tensor of token ids");
  return forward(cache, next_ids.reshape({-1, 1})).logits;
}

torch::Tensor CausalLM::score(const std::vector<std::vector<int32_t>>& sequences) const {
  BREADTH_CHECK_ARG(config().num_labels > 0,
                    "score: '{}' is not a sequence classifier (no score head); load a "
                    "*ForSequenceClassification checkpoint",
                    config().architecture);
  KvCache cache;
  return prefill(cache, sequences);
}

void check_finite(const torch::Tensor& t, const std::string& what) {
  if (!t.defined()) return;
  if (!torch::isfinite(t).all().item<bool>()) {
    auto nan = torch::isnan(t).sum().item<int64_t>();
    auto inf = torch::isinf(t).sum().item<int64_t>();
    fail<NumericError>("{}: {} NaN and {} infinite values; the weights or inputs are broken, or "
                       "the dtype overflowed (try float32)",
                       what, nan, inf);
  }
}

}  // namespace breadth
