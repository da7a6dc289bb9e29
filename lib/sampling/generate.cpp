// The batched generation loop: one prefill per prompt, n forked rows per prompt, one host sync per
// step (the sampled ids and their log-probabilities, needed for EOS / stop-string checks).
#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "breadth/chat_template.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "model/decode_graph.hpp"

namespace breadth {
namespace {

struct RowState {
  std::unique_ptr<IncrementalDecoder> decoder;
  std::string text;  // streamed text (for stop strings)
  bool done = false;
};

void validate(const GenerateOptions& o) {
  o.sampling.validate();
  BREADTH_CHECK_ARG(o.num_samples >= 1, "GenerateOptions.num_samples must be >= 1, got {}", o.num_samples);
  BREADTH_CHECK_ARG(o.max_new_tokens >= 0, "GenerateOptions.max_new_tokens must be >= 0, got {}",
                    o.max_new_tokens);
  BREADTH_CHECK_ARG(o.first_sample_index >= 0, "GenerateOptions.first_sample_index must be >= 0, got {}",
                    o.first_sample_index);
  BREADTH_CHECK_ARG(o.shrink_fraction >= 0.0 && o.shrink_fraction <= 1.0,
                    "GenerateOptions.shrink_fraction must be in [0, 1], got {}", o.shrink_fraction);
  for (const auto& s : o.stop_strings)
    BREADTH_CHECK_ARG(!s.empty(), "GenerateOptions.stop_strings must not contain an empty string");
}

// Position of the earliest stop string in `text` at or after `from` (npos if none).
size_t find_stop(const std::string& text, const std::vector<std::string>& stops, size_t from) {
  size_t best = std::string::npos;
  for (const auto& s : stops) {
    size_t p = text.find(s, from);
    if (p < best) best = p;
  }
  return best;
}

}  // namespace

uint64_t prompt_key(const std::vector<int32_t>& ids) {
  // FNV-1a over the ids' 4-byte little-endian images.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int32_t id : ids) {
    auto u = static_cast<uint32_t>(id);
    for (int k = 0; k < 4; ++k) {
      h ^= (u >> (8 * k)) & 0xFF;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

std::vector<int32_t> encode_prompt(const CausalLM& model, const std::string& prompt,
                                   bool apply_chat_template) {
  auto tok = model.tokenizer();
  BREADTH_CHECK_ARG(tok != nullptr,
                    "generate: the checkpoint has no tokenizer; pass token ids to generate_ids()");
  const ChatTemplate* tmpl = apply_chat_template ? tok->chat_template() : nullptr;
  if (tmpl) return tok->encode_chat(prompt, tmpl);
  return tok->encode(prompt, /*add_special=*/true);
}

GenerateResult generate(const CausalLM& model, const std::vector<std::string>& prompts,
                        const GenerateOptions& options) {
  validate(options);
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(prompts.size());
  for (const auto& p : prompts) ids.push_back(encode_prompt(model, p, options.apply_chat_template));
  return generate_ids(model, ids, options);
}

GenerateResult generate_ids(const CausalLM& model, const std::vector<std::vector<int32_t>>& prompts,
                            const GenerateOptions& options) {
  validate(options);
  BREADTH_CHECK_ARG(!prompts.empty(), "generate: no prompts given");
  const int64_t P = static_cast<int64_t>(prompts.size());
  const int64_t n = options.num_samples;
  const int64_t B = P * n;
  const int64_t V = model.config().vocab_size;
  for (int64_t p = 0; p < P; ++p) {
    BREADTH_CHECK_ARG(!prompts[static_cast<size_t>(p)].empty(), "generate: prompt {} has no tokens", p);
    for (int32_t id : prompts[static_cast<size_t>(p)])
      BREADTH_CHECK_ARG(id >= 0 && (V <= 0 || id < V),
                        "generate: prompt {} holds token id {} outside the vocabulary (size {})", p, id, V);
  }
  auto tok = model.tokenizer();
  BREADTH_CHECK_ARG(tok != nullptr || options.stop_strings.empty(),
                    "GenerateOptions.stop_strings need a tokenizer, and the checkpoint has none");

  std::vector<int32_t> eos = options.extra_eos_ids;
  if (options.stop_at_eos && tok) eos.insert(eos.end(), tok->eos_ids().begin(), tok->eos_ids().end());
  auto is_eos = [&](int32_t id) { return std::find(eos.begin(), eos.end(), id) != eos.end(); };
  size_t max_stop = 0;
  for (const auto& s : options.stop_strings) max_stop = std::max(max_stop, s.size());

  GenerateResult result;
  result.samples.resize(static_cast<size_t>(B));
  std::vector<RowState> rows(static_cast<size_t>(B));
  std::vector<torch::Generator> gens;
  gens.reserve(static_cast<size_t>(B));
  for (int64_t p = 0; p < P; ++p) {
    const auto& pid = prompts[static_cast<size_t>(p)];
    result.prompt_tokens += static_cast<int64_t>(pid.size());
    const uint64_t key = sample_seed(options.seed, prompt_key(pid));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = p * n + i;
      auto& s = result.samples[static_cast<size_t>(r)];
      s.prompt_index = p;
      s.sample_index = options.first_sample_index + i;
      gens.push_back(make_generator(key, static_cast<uint64_t>(s.sample_index)));
      if (tok) rows[static_cast<size_t>(r)].decoder = std::make_unique<IncrementalDecoder>(tok);
    }
  }
  if (options.max_new_tokens == 0) return result;

  Sampler sampler(options.sampling, options.extra_transforms);
  const bool greedy = options.sampling.greedy();
  const int64_t total_work = B * options.max_new_tokens;

  // Prefill each prompt once, then fork its row n ways.
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  KvCache cache = model.new_cache(P, static_cast<int64_t>(longest) + options.max_new_tokens);
  torch::Tensor logits = model.prefill(cache, prompts);
  if (n > 1) {
    auto fork = torch::arange(P, torch::TensorOptions().dtype(torch::kInt64).device(logits.device()))
                    .repeat_interleave(n);
    cache = cache.select(fork);
    logits = logits.index_select(0, fork);
  }
  // active[b]: the result row held by cache row b.
  std::vector<int64_t> active(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) active[static_cast<size_t>(b)] = b;
  int64_t live = B;
  // The fixed-shape step on this cache, from here on (the forks above are its last reshaping).
  std::unique_ptr<model::DecodeGraph> graph;
  if (options.cuda_graph) graph = std::make_unique<model::DecodeGraph>(model);

  auto finish = [&](int64_t r, FinishReason why) {
    auto& st = rows[static_cast<size_t>(r)];
    if (st.done) return;
    st.done = true;
    result.samples[static_cast<size_t>(r)].finish = why;
    --live;
  };

  for (int64_t step = 0; step < options.max_new_tokens && live > 0; ++step) {
    torch::Tensor transformed;
    auto next = sampler.sample(logits, gens, active, &transformed);
    auto idx = next.clamp_min(0).unsqueeze(1);
    auto lp = torch::log_softmax(logits.to(torch::kFloat32), -1).gather(1, idx).squeeze(1);
    auto slp = greedy ? torch::zeros_like(lp)
                      : torch::log_softmax(transformed.to(torch::kFloat32), -1).gather(1, idx).squeeze(1);
    // The one host sync of the step.
    auto host = torch::stack({next.to(torch::kFloat64), lp.to(torch::kFloat64), slp.to(torch::kFloat64)})
                    .cpu()
                    .contiguous();
    auto h = host.accessor<double, 2>();
    ++result.decode_steps;
    const int64_t Bc = static_cast<int64_t>(active.size());
    for (int64_t b = 0; b < Bc; ++b) {
      const int64_t r = active[static_cast<size_t>(b)];
      auto& st = rows[static_cast<size_t>(r)];
      if (st.done) continue;
      if (h[0][b] < 0)
        fail<NumericError>("generate: sample {} has no valid next-token distribution (NaN logits, or "
                           "every token removed by a user transform)", r);
      const auto id = static_cast<int32_t>(h[0][b]);
      auto& s = result.samples[static_cast<size_t>(r)];
      s.tokens.push_back(id);
      s.logprobs.push_back(static_cast<float>(h[1][b]));
      s.sampling_logprobs.push_back(static_cast<float>(h[2][b]));
      ++result.generated_tokens;
      std::string piece;
      const bool last = static_cast<int64_t>(s.tokens.size()) >= options.max_new_tokens;
      if (is_eos(id)) {
        finish(r, FinishReason::kEos);
        if (st.decoder) st.text += (piece = st.decoder->flush());  // bytes held back so far
      } else if (st.decoder) {
        piece = st.decoder->push(id);
        if (last) piece += st.decoder->flush();
        size_t from = st.text.size() >= max_stop ? st.text.size() - max_stop + 1 : 0;
        st.text += piece;
        if (max_stop > 0 && find_stop(st.text, options.stop_strings, from) != std::string::npos) {
          finish(r, FinishReason::kStop);
        }
      }
      if (options.on_token && !options.on_token(r, id, piece)) finish(r, FinishReason::kCallback);  // no-op if done
      if (!st.done && last) finish(r, FinishReason::kLength);
    }
    if (options.on_progress) {
      int64_t done = 0;
      for (int64_t r = 0; r < B; ++r)
        done += rows[static_cast<size_t>(r)].done ? options.max_new_tokens
                                                  : static_cast<int64_t>(result.samples[static_cast<size_t>(r)].tokens.size());
      if (!options.on_progress(done, total_work, "generate")) fail<Cancelled>("generate: cancelled by the progress callback");
    }
    if (live == 0 || step + 1 >= options.max_new_tokens) break;
    if (graph) {
      logits = graph->step(cache, next.clamp_min(0));
      continue;
    }
    // Compact the batch once enough rows have finished; otherwise finished rows ride along.
    if (static_cast<double>(live) <= options.shrink_fraction * static_cast<double>(Bc)) {
      std::vector<int64_t> keep_rows, keep_active;
      for (int64_t b = 0; b < Bc; ++b)
        if (!rows[static_cast<size_t>(active[static_cast<size_t>(b)])].done) {
          keep_rows.push_back(b);
          keep_active.push_back(active[static_cast<size_t>(b)]);
        }
      auto sel = torch::tensor(keep_rows, torch::kInt64).to(next.device());
      cache = cache.select(sel);
      next = next.index_select(0, sel);
      active = std::move(keep_active);
    }
    logits = model.decode(cache, next.clamp_min(0));
  }

  // Final texts: the full decode without special tokens, cut before the first stop string.
  for (int64_t r = 0; r < B; ++r) {
    auto& s = result.samples[static_cast<size_t>(r)];
    if (!tok) continue;
    std::vector<int32_t> body = s.tokens;
    if (s.finish == FinishReason::kEos && !body.empty()) body.pop_back();
    s.text = tok->decode(body, /*skip_special=*/true);
    if (!options.stop_strings.empty()) {
      size_t cut = find_stop(s.text, options.stop_strings, 0);
      if (cut != std::string::npos) s.text.resize(cut);
    }
  }
  return result;
}

}  // namespace breadth
