#include "model/decoder.hpp"

#include <torch/torch.h>

#include <algorithm>

#include <mutex>

#include "core/check.hpp"
#include "model/decode_attention.hpp"
#include "model/kv_cache_state.hpp"
#include "model/ops.hpp"
#include "model/projection.hpp"
#include "breadth/tokenizer.hpp"

namespace breadth::model {

namespace {

// Whether this build has breadth's CUDA kernels (BREADTH_CUDA=ON).
constexpr bool cuda_build() {
#ifdef BREADTH_WITH_CUDA
  return true;
#else
  return false;
#endif
}

using torch::indexing::Slice;

struct Norm {
  torch::Tensor w;  // model dtype, or float32 when applied in float32
  double eps = 1e-6;
  bool in_f32 = false;
  bool defined() const { return w.defined(); }
  torch::Tensor operator()(const torch::Tensor& x) const { return rms_norm(x, w, eps, in_f32); }
};

// How a layer's attention is restricted: an explicit [B, 1, T, K] boolean mask, plain causal, or
// nothing at all (one new token that may see everything).
struct Attn {
  torch::Tensor mask;
  bool causal = false;
  /// Fixed-shape step: the [1] column (on the device) the new keys go to; every column is attended.
  torch::Tensor column;
};

struct Layer {
  Norm attn_in, attn_out, ff_in, ff_out, q_norm, k_norm;
  Projection qkv, o;       // q, k, v stacked along the output dimension
  Projection gate_up, down;  // gate and up stacked
  bool sliding = false;
};

class Decoder final : public CausalLM {
 public:
  Decoder(ArchConfig arch, const WeightSource& src, const ModelOptions& opt, std::string tok_path)
      : arch_(std::move(arch)), device_(opt.device), dtype_(opt.dtype),
        // The grouped kernels run on the CPU (gemv_grouped.cpp) and, in a CUDA build, on CUDA
        // devices (gemv_grouped.cu); elsewhere every weight is expanded.
        native_(opt.weights == WeightFormat::kNative &&
                (opt.device.is_cpu() || (cuda_build() && opt.device.is_cuda()))),
        tokenizer_path_(std::move(tok_path)) {
    c10::InferenceMode guard;
    load(src);
  }

  const ModelConfig& config() const override { return arch_.pub; }
  torch::Device device() const override { return device_; }
  torch::ScalarType dtype() const override { return dtype_; }

  int64_t weight_bytes() const override {
    auto norm = [](const Norm& n) { return n.defined() ? static_cast<int64_t>(n.w.nbytes()) : int64_t{0}; };
    int64_t b = embed_.table().defined() ? static_cast<int64_t>(embed_.table().nbytes()) : 0;
    b += (head_is_embedding_ ? 0 : head_.weight_bytes()) + norm(final_norm_);
    for (const auto& L : layers_)
      b += L.qkv.weight_bytes() + L.o.weight_bytes() + L.gate_up.weight_bytes() + L.down.weight_bytes() +
           norm(L.attn_in) + norm(L.attn_out) + norm(L.ff_in) + norm(L.ff_out) + norm(L.q_norm) + norm(L.k_norm);
    return b;
  }

  std::shared_ptr<const Tokenizer> tokenizer() const override {
    std::call_once(tokenizer_once_, [&] {
      if (!tokenizer_path_.empty()) tokenizer_ = Tokenizer::load(tokenizer_path_);
    });
    return tokenizer_;
  }

  KvCache new_cache(int64_t batch, int64_t capacity) const override {
    const auto& p = arch_.pub;
    KvCache c;
    KvCacheAccess::state(c) = KvCacheAccess::State::create(batch, capacity, p.num_layers, p.num_kv_heads,
                                                           p.head_dim, dtype_, device_);
    return c;
  }

  ForwardOutput forward(KvCache& cache, const torch::Tensor& ids_in, const torch::Tensor& valid_in,
                        const ForwardOptions& options) const override;

 private:
  void load(const WeightSource& src);
  using Named = std::vector<std::pair<std::string, std::vector<int64_t>>>;
  /// The rows of `names` (each with its expected [rows, in] shape) stacked into one projection kept
  /// as integers and group scales, when native and all of them are group-quantized alike.
  std::optional<Projection> grouped_projection(const WeightSource& src, const Named& names,
                                               torch::Tensor bias) const;
  /// The same rows kept quantized when grouped_projection can, else expanded to dtype_.
  Projection load_projection(const WeightSource& src, const Named& names, torch::Tensor bias) const;
  Norm load_norm(const WeightSource& src, const std::string& name, int64_t dim) const;
  torch::Tensor attention(const Layer& L, size_t index, const torch::Tensor& x,
                          KvCacheAccess::State& st, int64_t past, const Attn& attn,
                          const torch::Tensor& cos, const torch::Tensor& sin) const;
  torch::Tensor mlp(const Layer& L, const torch::Tensor& x) const;
  std::pair<torch::Tensor, torch::Tensor> rope(const RopeSpec& spec, const torch::Tensor& fixed,
                                               const torch::Tensor& positions, int64_t& seq_len) const;

  ArchConfig arch_;
  torch::Device device_;
  torch::ScalarType dtype_;
  bool native_;
  std::string tokenizer_path_;
  mutable std::once_flag tokenizer_once_;
  mutable std::shared_ptr<const Tokenizer> tokenizer_;

  TokenEmbedding embed_;
  Projection head_;
  bool head_is_embedding_ = false;  // a tied head sharing embed_'s float table
  Norm final_norm_;
  std::vector<Layer> layers_;
  torch::Tensor inv_freq_, inv_freq_local_;
  bool any_sliding_ = false;
  bool local_rope_differs_ = false;
};

Norm Decoder::load_norm(const WeightSource& src, const std::string& name, int64_t dim) const {
  Norm n;
  n.eps = arch_.pub.rms_norm_eps;
  n.in_f32 = arch_.norm_weight_in_f32 || arch_.norm_add_one;
  auto w = load_checked(src, name, {dim}, torch::kFloat32);
  if (arch_.norm_add_one) w = w + 1.0;
  n.w = w.to(device_, n.in_f32 ? torch::kFloat32 : dtype_);
  return n;
}

std::optional<Projection> Decoder::grouped_projection(const WeightSource& src, const Named& names,
                                                    torch::Tensor bias) const {
  if (!native_) return std::nullopt;
  std::vector<GroupQuantized> parts;
  for (const auto& [name, shape] : names) {
    if (!src.has(name) || src.shape(name) != shape) return std::nullopt;  // load_checked says what is wrong
    auto g = src.load_grouped(name);
    if (!g) return std::nullopt;
    parts.push_back(std::move(*g));
  }
  auto all = cat_rows(parts);
  if (!all || all->q.size(1) % GroupedWeight::kChunk != 0) return std::nullopt;
  return Projection::grouped(*all, std::move(bias), device_);
}

Projection Decoder::load_projection(const WeightSource& src, const Named& names, torch::Tensor bias) const {
  if (auto p = grouped_projection(src, names, bias)) return std::move(*p);
  std::vector<torch::Tensor> rows;
  for (const auto& [name, shape] : names) rows.push_back(load_checked(src, name, shape, dtype_));
  auto w = rows.size() == 1 ? rows[0] : torch::cat(rows);
  return Projection::dense(w.to(device_).contiguous(), std::move(bias));
}

void Decoder::load(const WeightSource& src) {
  const auto& p = arch_.pub;
  const int64_t H = p.hidden_size, D = p.head_dim, I = p.intermediate_size;
  const int64_t qdim = p.num_heads * D, kvdim = p.num_kv_heads * D;
  auto get = [&](const std::string& name, std::vector<int64_t> shape) {
    return load_checked(src, name, shape, dtype_);
  };
  auto dev = [&](torch::Tensor t) { return t.to(device_).contiguous(); };

  const std::string embed_name = "model.embed_tokens.weight";
  const bool tied_head = !arch_.no_head && !arch_.classifier() && p.tie_embeddings;
  std::optional<Projection> tied;
  if (tied_head) tied = grouped_projection(src, {{embed_name, {p.vocab_size, H}}}, {});
  if (native_ && device_.is_cpu()) {
    // The table is read a few rows per step: decoded from the file unless a tied head needs it as
    // a float matrix anyway. (On a GPU it is expanded: decoding on the host would read the ids
    // back each step, which a captured decode step cannot.)
    auto rows = src.has(embed_name) ? src.encoded_rows(embed_name) : nullptr;
    if (rows && rows->rows() == p.vocab_size && rows->cols() == H && (!tied_head || tied))
      embed_ = TokenEmbedding::encoded(std::move(rows), dtype_);
  }
  if (!embed_.defined()) embed_ = TokenEmbedding::dense(dev(get(embed_name, {p.vocab_size, H})));
  layers_.resize(static_cast<size_t>(p.num_layers));
  for (int64_t i = 0; i < p.num_layers; ++i) {
    Layer& L = layers_[static_cast<size_t>(i)];
    const std::string pre = "model.layers." + std::to_string(i) + ".";
    const std::string att = pre + "self_attn.";
    torch::Tensor bqkv;
    if (arch_.fused_qkv) {
      if (src.has(att + "qkv_proj.bias")) bqkv = dev(get(att + "qkv_proj.bias", {qdim + 2 * kvdim}));
      L.qkv = load_projection(src, {{att + "qkv_proj.weight", {qdim + 2 * kvdim, H}}}, bqkv);
    } else {
      if (arch_.qkv_bias || src.has(att + "q_proj.bias")) {
        bqkv = dev(torch::cat({get(att + "q_proj.bias", {qdim}), get(att + "k_proj.bias", {kvdim}),
                               get(att + "v_proj.bias", {kvdim})}));
      }
      L.qkv = load_projection(src, {{att + "q_proj.weight", {qdim, H}}, {att + "k_proj.weight", {kvdim, H}},
                                {att + "v_proj.weight", {kvdim, H}}},
                          bqkv);
    }
    torch::Tensor bo;
    if (arch_.o_bias || src.has(att + "o_proj.bias")) bo = dev(get(att + "o_proj.bias", {H}));
    L.o = load_projection(src, {{att + "o_proj.weight", {H, qdim}}}, bo);
    if (arch_.qk_norm == QkNorm::kPerHead) {
      L.q_norm = load_norm(src, att + "q_norm.weight", D);
      L.k_norm = load_norm(src, att + "k_norm.weight", D);
    } else if (arch_.qk_norm == QkNorm::kFull) {
      L.q_norm = load_norm(src, att + "q_norm.weight", qdim);
      L.k_norm = load_norm(src, att + "k_norm.weight", kvdim);
    }
    const std::string m = pre + "mlp.";
    torch::Tensor bgu, bdown;
    if (!arch_.fused_gate_up && (arch_.mlp_bias || src.has(m + "gate_proj.bias"))) {
      bgu = dev(torch::cat({get(m + "gate_proj.bias", {I}), get(m + "up_proj.bias", {I})}));
      bdown = dev(get(m + "down_proj.bias", {H}));
    }
    if (arch_.fused_gate_up) {
      L.gate_up = load_projection(src, {{m + "gate_up_proj.weight", {2 * I, H}}}, bgu);
    } else {
      L.gate_up = load_projection(src, {{m + "gate_proj.weight", {I, H}}, {m + "up_proj.weight", {I, H}}}, bgu);
    }
    L.down = load_projection(src, {{m + "down_proj.weight", {H, I}}}, bdown);
    if (!arch_.norm_attn_in.empty()) L.attn_in = load_norm(src, pre + arch_.norm_attn_in + ".weight", H);
    if (!arch_.norm_attn_out.empty()) L.attn_out = load_norm(src, pre + arch_.norm_attn_out + ".weight", H);
    if (!arch_.norm_ff_in.empty()) L.ff_in = load_norm(src, pre + arch_.norm_ff_in + ".weight", H);
    if (!arch_.norm_ff_out.empty()) L.ff_out = load_norm(src, pre + arch_.norm_ff_out + ".weight", H);
    L.sliding = arch_.sliding_window > 0 && arch_.layer_sliding[static_cast<size_t>(i)];
    any_sliding_ = any_sliding_ || L.sliding;
  }
  final_norm_ = load_norm(src, "model.norm.weight", H);
  if (arch_.no_head) {
    // A base model (an embedder): hidden states only.
  } else if (arch_.classifier()) {
    head_ = Projection::dense(dev(get("score.weight", {p.num_labels, H})));
  } else if (p.tie_embeddings) {
    head_is_embedding_ = !tied;
    head_ = tied ? std::move(*tied) : Projection::dense(embed_.table());
  } else {
    if (!src.has("lm_head.weight"))
      fail<FormatError>("checkpoint '{}' has no 'lm_head.weight' and its config does not tie the "
                        "embeddings (tie_word_embeddings is false)",
                        src.origin());
    head_ = load_projection(src, {{"lm_head.weight", {p.vocab_size, H}}}, {});
  }
  inv_freq_ = rope_inv_freq(arch_.rope, D, device_);
  inv_freq_local_ = rope_inv_freq(arch_.rope_local, D, device_);
  const auto& r = arch_.rope;
  const auto& rl = arch_.rope_local;
  local_rope_differs_ = any_sliding_ && (inv_freq_.sizes() != inv_freq_local_.sizes() ||
                                         !torch::equal(inv_freq_, inv_freq_local_) ||
                                         r.attention_factor != rl.attention_factor ||
                                         r.length_dependent() || rl.length_dependent());
}

std::pair<torch::Tensor, torch::Tensor> Decoder::rope(const RopeSpec& spec, const torch::Tensor& fixed,
                                                      const torch::Tensor& positions,
                                                      int64_t& seq_len) const {
  torch::Tensor inv_freq = fixed;
  if (spec.length_dependent()) {
    // transformers picks these frequencies per call from the longest position in it (one host
    // sync, only for dynamic and longrope).
    if (seq_len < 0) seq_len = positions.max().item<int64_t>() + 1;
    inv_freq = rope_inv_freq(spec, arch_.pub.head_dim, device_, seq_len);
  }
  return rope_cos_sin(positions, inv_freq, dtype_, spec.attention_factor);
}

torch::Tensor Decoder::attention(const Layer& L, size_t index, const torch::Tensor& x,
                                 KvCacheAccess::State& st, int64_t past, const Attn& attn,
                                 const torch::Tensor& cos, const torch::Tensor& sin) const {
  const auto& p = arch_.pub;
  const int64_t B = x.size(0), T = x.size(1), D = p.head_dim;
  const int64_t nq = p.num_heads, nkv = p.num_kv_heads;
  auto qkv = L.qkv(x);
  auto q = qkv.narrow(-1, 0, nq * D);
  auto k = qkv.narrow(-1, nq * D, nkv * D);
  auto v = qkv.narrow(-1, (nq + nkv) * D, nkv * D);
  if (arch_.qk_norm == QkNorm::kFull) {
    q = L.q_norm(q);
    k = L.k_norm(k);
  }
  q = q.reshape({B, T, nq, D});
  k = k.reshape({B, T, nkv, D});
  if (arch_.qk_norm == QkNorm::kPerHead) {
    q = L.q_norm(q);
    k = L.k_norm(k);
  }
  q = apply_rope(q.transpose(1, 2), cos, sin);  // [B, nq, T, D]
  k = apply_rope(k.transpose(1, 2), cos, sin);
  auto vt = v.reshape({B, T, nkv, D}).transpose(1, 2);
  torch::Tensor keys, values;
  if (attn.column.defined()) {
    st.k[index].index_copy_(2, attn.column, k);
    st.v[index].index_copy_(2, attn.column, vt);
    keys = st.k[index];
    values = st.v[index];
  } else {
    st.k[index].narrow(2, past, T).copy_(k);
    st.v[index].narrow(2, past, T).copy_(vt);
    keys = st.k[index].narrow(2, 0, past + T);
    values = st.v[index].narrow(2, 0, past + T);
  }

  torch::Tensor out;
  if (arch_.attn_softcap > 0) {
    // Soft-capping sits between the scores and the softmax, where SDPA cannot reach: the explicit
    // form, as transformers' eager attention computes it.
    if (nq != nkv) {
      keys = keys.repeat_interleave(nq / nkv, 1);
      values = values.repeat_interleave(nq / nkv, 1);
    }
    auto scores = torch::matmul(q, keys.transpose(2, 3)) * arch_.attn_scale;
    scores = softcap(scores, arch_.attn_softcap);
    auto mask = attn.mask.defined() ? attn.mask
                                    : attention_mask(st.valid.narrow(1, 0, past + T),
                                                     st.pos.narrow(1, 0, past + T),
                                                     st.pos.narrow(1, past, T), past, 0);
    scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
    auto probs = torch::softmax(scores, -1, torch::kFloat32).to(dtype_);
    out = torch::matmul(probs, values);
  } else {
    std::optional<torch::Tensor> mask;
    if (attn.mask.defined()) mask = attn.mask;
    std::optional<torch::Tensor> fused;
    if (T == 1 && device_.is_cpu() && (!attn.causal || keys.size(2) == 1))
      fused = decode_attention(q, keys, values, attn.mask, arch_.attn_scale);
    if (fused) {
      out = fused->to(dtype_);
    } else if (T == 1 && device_.is_cpu() && dtype_ != torch::kFloat32) {
      // A decode step on the CPU: libtorch's reduced-precision attention kernel runs one small
      // MKL GEMM per (row, head), several times slower than the float32 one at one query
      // (SmolLM2, 192 columns, batch 10: 705 vs 155 us per layer with these copies included,
      // benchmarks/RESULTS.md). Widening is exact, and the float32 result is rounded once.
      out = at::scaled_dot_product_attention(q.to(torch::kFloat32), keys.to(torch::kFloat32),
                                             values.to(torch::kFloat32), mask, 0.0, attn.causal,
                                             arch_.attn_scale, /*enable_gqa=*/nq != nkv)
                .to(dtype_);
    } else {
      out = at::scaled_dot_product_attention(q, keys, values, mask, 0.0, attn.causal,
                                             arch_.attn_scale, /*enable_gqa=*/nq != nkv);
    }
  }
  out = out.transpose(1, 2).reshape({B, T, nq * D});
  return L.o(out);
}

torch::Tensor Decoder::mlp(const Layer& L, const torch::Tensor& x) const {
  const int64_t I = arch_.pub.intermediate_size;
  auto gu = L.gate_up(x);
  auto gate = gu.narrow(-1, 0, I);
  auto up = gu.narrow(-1, I, I);
  auto act = arch_.activation == Activation::kSilu ? torch::silu(gate) : torch::gelu(gate, "tanh");
  act.mul_(up);
  return L.down(act);
}

ForwardOutput Decoder::forward(KvCache& cache, const torch::Tensor& ids_in,
                               const torch::Tensor& valid_in, const ForwardOptions& options) const {
  c10::InferenceMode guard;
  const auto& p = arch_.pub;
  BREADTH_CHECK_ARG(ids_in.defined() && ids_in.dim() == 2 && ids_in.size(0) > 0 && ids_in.size(1) > 0,
                    "forward: ids must be a non-empty [batch, tokens] tensor");
  BREADTH_CHECK_ARG(!ids_in.is_floating_point() && !ids_in.is_complex(),
                    "forward: ids must be an integer tensor (got {})", c10::toString(ids_in.scalar_type()));
  const int64_t B = ids_in.size(0), T = ids_in.size(1);
  // Moved only when it is elsewhere: a decode step's ids already live on the device.
  auto ids = ids_in.device() == device_ ? ids_in.to(torch::kInt64) : ids_in.to(device_, torch::kInt64);
  if (device_.is_cpu()) {
    // Free on the CPU (read in place, no device to wait for): a clear error instead of an index crash.
    auto flat = ids.contiguous();
    const int64_t* v = flat.data_ptr<int64_t>();
    const auto [lo, hi] = std::minmax_element(v, v + flat.numel());
    BREADTH_CHECK_ARG(*lo >= 0 && *hi < p.vocab_size,
                      "forward: token ids must lie in [0, {}) (the vocabulary); got {}..{}",
                      p.vocab_size, *lo, *hi);
    if (arch_.image_token_id >= 0)
      BREADTH_CHECK_ARG(std::find(v, v + flat.numel(), arch_.image_token_id) == v + flat.numel(),
                        "forward: token id {} is the image placeholder of '{}'; breadth runs only its "
                        "text tower and cannot take images",
                        arch_.image_token_id, p.architecture);
  }
  torch::Tensor valid;
  if (valid_in.defined()) {
    BREADTH_CHECK_ARG(valid_in.sizes() == ids_in.sizes(),
                      "forward: valid must have the shape of ids ([{}, {}])", B, T);
    valid = valid_in.device() == device_ ? valid_in.to(torch::kBool) : valid_in.to(device_, torch::kBool);
  } else {
    valid = torch::ones({B, T}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  }

  if (cache.empty()) cache = new_cache(B, T);
  KvCacheAccess::State& st = *KvCacheAccess::state(cache);
  BREADTH_CHECK_ARG(st.layers == p.num_layers && st.kv_heads == p.num_kv_heads &&
                        st.head_dim == p.head_dim && st.dtype == dtype_ && st.device == device_,
                    "forward: this KvCache was made by a different model (layout, dtype or device "
                    "differ); use the model's own new_cache()");
  BREADTH_CHECK_ARG(st.batch == B, "forward: ids has {} rows but the cache has {}", B, st.batch);

  const int64_t past = st.columns;
  const bool fixed = options.fixed_shape;
  if (fixed) {
    BREADTH_CHECK_ARG(T == 1 && past > 0, "forward: fixed_shape is a decode step: one token per row on a "
                                          "prefilled cache (got {} tokens, {} cached)", T, past);
    st.require_room_without_growing();
    BREADTH_CHECK_ARG(!arch_.rope.length_dependent() && !arch_.rope_local.length_dependent(),
                      "forward: fixed_shape cannot take '{}''s rope scaling (its frequencies follow the "
                      "longest position, read on the host)", p.architecture);
  } else {
    st.reserve(past + T);
  }
  auto positions = token_positions(st.lengths, valid);
  // Written beyond `columns`: harmless until the commit at the end, so a throw leaves the cache as
  // it was.
  torch::Tensor key_valid, key_pos;
  if (fixed) {
    // Every shape is the capacity's; where to write is a device count (set from the host's once).
    if (!st.cursor_synced) st.cursor.fill_(past);
    st.cursor_synced = true;
    st.valid.index_copy_(1, st.cursor, valid);
    st.pos.index_copy_(1, st.cursor, positions);
    key_valid = st.valid;
    key_pos = st.pos;
  } else {
    st.cursor_synced = false;
    st.valid.narrow(1, past, T).copy_(valid);
    st.pos.narrow(1, past, T).copy_(positions);
    key_valid = st.valid.narrow(1, 0, past + T);
    key_pos = st.pos.narrow(1, 0, past + T);
  }
  // Without padding, a single new token sees every column and a first chunk is plainly causal:
  // no mask to build, and SDPA may take its fastest kernel (transformers does the same).
  const bool all_valid = st.all_valid && !valid_in.defined();
  Attn full{};
  if (fixed) {
    full.mask = attention_mask_at(key_valid, key_pos, positions, st.cursor, 0);
    full.column = st.cursor;
  } else if (all_valid && T == 1) {
    full.mask = torch::Tensor();
  } else if (all_valid && past == 0) {
    full.causal = true;
  } else {
    full.mask = attention_mask(key_valid, key_pos, positions, past, 0);
  }
  Attn local = full;
  if (any_sliding_) {
    local.causal = false;
    local.mask = fixed ? attention_mask_at(key_valid, key_pos, positions, st.cursor, arch_.sliding_window)
                       : attention_mask(key_valid, key_pos, positions, past, arch_.sliding_window);
  }

  int64_t seq_len = -1;
  auto [cos, sin] = rope(arch_.rope, inv_freq_, positions, seq_len);
  torch::Tensor cos_local = cos, sin_local = sin;
  if (local_rope_differs_)
    std::tie(cos_local, sin_local) = rope(arch_.rope_local, inv_freq_local_, positions, seq_len);

  auto h = embed_(ids);
  if (arch_.embed_scale > 0)
    h = h * torch::scalar_tensor(arch_.embed_scale, torch::TensorOptions().dtype(dtype_));
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = layers_[i];
    auto x = L.attn_in.defined() ? L.attn_in(h) : h;
    auto a = L.sliding ? attention(L, i, x, st, past, local, cos_local, sin_local)
                       : attention(L, i, x, st, past, full, cos, sin);
    if (L.attn_out.defined()) a = L.attn_out(a);
    h = h + a;
    x = L.ff_in.defined() ? L.ff_in(h) : h;
    auto m = mlp(L, x);
    if (L.ff_out.defined()) m = L.ff_out(m);
    h = h + m;
  }

  // Only the requested positions pay for the final norm and the (large) head.
  if (options.last_only) {
    auto idx = last_valid_index(valid);
    h = h.index({torch::arange(B, idx.options()), idx});  // [B, H]
  }
  auto hn = final_norm_(h);
  torch::Tensor logits;
  if (head_.defined()) {
    logits = head_(hn).to(torch::kFloat32);
    if (arch_.final_softcap > 0) logits = softcap(logits, arch_.final_softcap);
  }

  if (fixed) {
    // In place: a captured graph replays into these very tensors.
    st.lengths.add_(valid.sum(1));
    st.cursor.add_(1);
  } else {
    st.lengths = st.lengths + valid.sum(1);
  }
  st.columns = past + T;
  st.all_valid = all_valid;

  if (options.check_finite) check_finite(logits.defined() ? logits : hn, "forward: logits");
  ForwardOutput out;
  out.logits = logits;
  if (options.want_hidden || !head_.defined()) out.hidden = hn;
  return out;
}

}  // namespace

void validate_options(const ModelOptions& o) {
  if (o.device.is_cuda()) {
    BREADTH_CHECK_ARG(torch::cuda::is_available(),
                      "ModelOptions.device is CUDA but no CUDA device is available; use torch::kCPU");
    BREADTH_CHECK_ARG(o.dtype == torch::kFloat32 || o.dtype == torch::kFloat16 ||
                          o.dtype == torch::kBFloat16,
                      "ModelOptions.dtype must be float32, float16 or bfloat16 on CUDA (got {})",
                      c10::toString(o.dtype));
  } else {
    BREADTH_CHECK_ARG(o.device.is_cpu(), "ModelOptions.device must be CPU or CUDA (got {})",
                      o.device.str());
    BREADTH_CHECK_ARG(o.dtype == torch::kFloat32 || o.dtype == torch::kBFloat16,
                      "ModelOptions.dtype must be float32 or bfloat16 on CPU (got {}); float16 "
                      "matmuls are not worth it there",
                      c10::toString(o.dtype));
  }
}

std::shared_ptr<CausalLM> make_decoder(ArchConfig arch, const WeightSource& weights,
                                       const ModelOptions& options, std::string tokenizer_path) {
  validate_options(options);
  return std::make_shared<Decoder>(std::move(arch), weights, options, std::move(tokenizer_path));
}

}  // namespace breadth::model
