// DeBERTa-v2/v3 (DebertaV2Model, DebertaV2ForSequenceClassification): disentangled attention with
// content->position (c2p) and position->content (p2c) terms over log-bucketed relative positions,
// optional shared attention keys, the ConvLayer of v2-xlarge, and the ContextPooler head.
// DeBERTa v1 (DebertaModel, DebertaForSequenceClassification, e.g. deberta-large-mnli) is the same
// computation with a fused per-head in_proj plus q/v biases, plain relative positions and its own
// pos_proj (c2p, no bias) / pos_q_proj (p2c).
#include "encoder/deberta.hpp"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/check.hpp"
#include "encoder/encoder_net.hpp"

namespace breadth::model {

torch::Tensor deberta_log_bucket_position(const torch::Tensor& relative, int64_t bucket_size,
                                          int64_t max_position) {
  // Same operations and float32 rounding as transformers, so that bucket edges agree exactly.
  const int64_t mid = bucket_size / 2;
  auto sign = torch::sign(relative);
  auto inside = (relative < mid).logical_and(relative > -mid);
  auto abs_pos = torch::where(inside, torch::full_like(relative, mid - 1), relative.abs());
  auto denom = torch::log(torch::tensor(static_cast<double>(max_position - 1) / static_cast<double>(mid),
                                        torch::TensorOptions().dtype(torch::kFloat32).device(relative.device())));
  auto log_pos =
      torch::ceil(torch::log(abs_pos.to(torch::kFloat32) / static_cast<double>(mid)) / denom * static_cast<double>(mid - 1)) +
      static_cast<double>(mid);
  auto bucket = torch::where(abs_pos <= mid, relative.to(torch::kFloat32), log_pos * sign.to(torch::kFloat32));
  return bucket.to(torch::kInt64);
}

torch::Tensor deberta_relative_positions(int64_t query_len, int64_t key_len, int64_t bucket_size,
                                         int64_t max_position, torch::Device device) {
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  auto rel = torch::arange(query_len, opts).unsqueeze(1) - torch::arange(key_len, opts).unsqueeze(0);
  if (bucket_size > 0 && max_position > 0) rel = deberta_log_bucket_position(rel, bucket_size, max_position);
  return rel;
}

torch::Tensor deberta_disentangled_bias(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& pos_q,
                                        const torch::Tensor& pos_k, const torch::Tensor& relative, int64_t span,
                                        const torch::Tensor& scale, bool c2p, bool p2c) {
  // q, k: [B, H, T, D]; pos_*: [H, 2*span, D]. Scores gathered at each pair's relative bucket.
  const auto s = scale.to(q.scalar_type());
  torch::Tensor score;
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2);
  if (c2p) {
    auto att = torch::matmul(q, pos_k.transpose(-1, -2).unsqueeze(0));  // [B, H, T, 2span]
    auto idx = torch::clamp(relative + span, 0, 2 * span - 1).expand({B, H, T, relative.size(-1)});
    score = torch::gather(att, -1, idx) / s;
  }
  if (p2c) {
    auto att = torch::matmul(k, pos_q.transpose(-1, -2).unsqueeze(0));  // [B, H, Tk, 2span]
    auto idx = torch::clamp(-relative + span, 0, 2 * span - 1).expand({B, H, k.size(2), k.size(2)});
    auto t = torch::gather(att, -1, idx).transpose(-1, -2) / s;
    score = score.defined() ? score + t : t;
  }
  return score;
}

namespace {

struct DebertaLayer {
  Linear q, k, v, attn_out, up, down;
  LayerNorm attn_norm, out_norm;
  torch::Tensor pos_q, pos_k;  // [H, 2span, D], projected once at load
};

class DebertaNet final : public EncoderNet {
 public:
  DebertaNet(const EncoderArch& arch, const WeightSource& src, torch::ScalarType dtype, torch::Device device)
      : arch_(arch), dtype_(dtype) {
    const auto& p = arch.pub;
    const int64_t H = p.hidden_size, I = arch.intermediate_size, E = arch.embedding_size;
    EncoderWeights w(src, find_prefix(src, "embeddings.word_embeddings.weight"), dtype, device);
    word_ = w.base("embeddings.word_embeddings.weight", {p.vocab_size, E});
    if (arch.position_biased_input) pos_ = w.base("embeddings.position_embeddings.weight", {p.max_position, E});
    if (arch.type_vocab_size > 0) type_ = w.base("embeddings.token_type_embeddings.weight", {arch.type_vocab_size, E});
    if (E != H) embed_proj_ = w.linear("embeddings.embed_proj", H, E, /*bias=*/false);
    emb_norm_ = w.layer_norm("embeddings.LayerNorm", H, arch.layer_norm_eps);

    torch::Tensor rel;
    if (arch.relative_attention) {
      rel = w.base("encoder.rel_embeddings.weight", {2 * arch.att_span, H});
      if (arch.norm_rel_ebd) rel = w.layer_norm("encoder.LayerNorm", H, arch.layer_norm_eps)(rel);
    }
    if (arch.conv_kernel_size > 0) {
      conv_w_ = w.base("encoder.conv.conv.weight", {H, H / arch.conv_groups, arch.conv_kernel_size});
      conv_b_ = w.base("encoder.conv.conv.bias", {H});
      conv_norm_ = w.layer_norm("encoder.conv.LayerNorm", H, arch.layer_norm_eps);
    }
    const int64_t heads = p.num_heads, D = H / heads;
    const bool v1 = arch.family == EncoderFamily::kDeberta;
    auto per_head = [&](const torch::Tensor& t) {  // [2span, H] -> [heads, 2span, D]
      return t.view({t.size(0), heads, D}).permute({1, 0, 2}).contiguous();
    };
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < p.num_layers; ++i) {
      const std::string l = "encoder.layer." + std::to_string(i) + ".";
      DebertaLayer b;
      if (v1) {
        // in_proj rows are per head [q; k; v] (transformers chunks each head's 3D columns); q and v
        // have separate biases, k none.
        auto in = w.base(l + "attention.self.in_proj.weight", {3 * H, H}).view({heads, 3, D, H});
        b.q = Linear{in.select(1, 0).reshape({H, H}).contiguous(), w.base(l + "attention.self.q_bias", {H})};
        b.k = Linear{in.select(1, 1).reshape({H, H}).contiguous(), torch::Tensor()};
        b.v = Linear{in.select(1, 2).reshape({H, H}).contiguous(), w.base(l + "attention.self.v_bias", {H})};
      } else {
        b.q = w.linear(l + "attention.self.query_proj", H, H);
        b.k = w.linear(l + "attention.self.key_proj", H, H);
        b.v = w.linear(l + "attention.self.value_proj", H, H);
      }
      b.attn_out = w.linear(l + "attention.output.dense", H, H);
      b.attn_norm = w.layer_norm(l + "attention.output.LayerNorm", H, arch.layer_norm_eps);
      b.up = w.linear(l + "intermediate.dense", I, H);
      b.down = w.linear(l + "output.dense", H, I);
      b.out_norm = w.layer_norm(l + "output.LayerNorm", H, arch.layer_norm_eps);
      if (arch.relative_attention) {
        // The relative embeddings do not depend on the input: project them once here.
        if (v1) {
          if (arch.c2p) b.pos_k = per_head(w.linear(l + "attention.self.pos_proj", H, H, /*bias=*/false)(rel));
          if (arch.p2c) b.pos_q = per_head(w.linear(l + "attention.self.pos_q_proj", H, H)(rel));
        } else if (arch.share_att_key) {
          if (arch.p2c) b.pos_q = per_head(b.q(rel));
          if (arch.c2p) b.pos_k = per_head(b.k(rel));
        } else {
          if (arch.c2p) b.pos_k = per_head(w.linear(l + "attention.self.pos_key_proj", H, H)(rel));
          if (arch.p2c) b.pos_q = per_head(w.linear(l + "attention.self.pos_query_proj", H, H)(rel));
        }
      }
      layers_.push_back(std::move(b));
    }
    if (arch.head == EncoderHead::kDebertaPooler) {
      pooler_ = w.linear("pooler.dense", H, H, true, /*base=*/false);
      classifier_ = w.linear("classifier", p.num_labels, H, true, false);
    }
  }

  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& mask,
                       const torch::Tensor& type_ids) const override {
    const auto& p = arch_.pub;
    const int64_t B = ids.size(0), T = ids.size(1), heads = p.num_heads, D = p.hidden_size / heads;
    auto x = torch::embedding(word_, ids);
    if (pos_.defined()) x = x + torch::embedding(pos_, torch::arange(T, ids.options()).unsqueeze(0));
    if (type_.defined()) x = x + torch::embedding(type_, type_ids);
    if (embed_proj_.w.defined()) x = embed_proj_(x);
    auto fmask = mask.to(x.scalar_type()).unsqueeze(-1);
    x = emb_norm_(x) * fmask;
    const auto embedded = x;

    const int factor = 1 + (arch_.c2p ? 1 : 0) + (arch_.p2c ? 1 : 0);
    auto scale = torch::sqrt(torch::tensor(static_cast<float>(D) * static_cast<float>(factor)));
    torch::Tensor rel;
    if (arch_.relative_attention)
      rel = deberta_relative_positions(T, T, arch_.position_buckets, arch_.max_relative_positions, ids.device());
    auto key_mask = mask.to(torch::kBool).view({B, 1, 1, T});
    const double lowest = x.scalar_type() == torch::kBFloat16 ? -3.3895313892515355e38
                          : x.scalar_type() == torch::kFloat16 ? -65504.0
                                                               : std::numeric_limits<float>::lowest();
    auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, D}).transpose(1, 2); };
    for (size_t i = 0; i < layers_.size(); ++i) {
      const auto& l = layers_[i];
      auto q = split(l.q(x)), k = split(l.k(x)), v = split(l.v(x));
      auto scores = torch::matmul(q, k.transpose(-1, -2) / scale.to(q.scalar_type()));
      if (arch_.relative_attention)
        scores = scores + deberta_disentangled_bias(q, k, l.pos_q, l.pos_k, rel, arch_.att_span, scale, arch_.c2p,
                                                    arch_.p2c);
      scores = scores.masked_fill(key_mask.logical_not(), lowest);
      auto ctx = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({B, T, p.hidden_size});
      auto attn = l.attn_norm(l.attn_out(ctx) + x);
      auto out = l.out_norm(l.down(activation(l.up(attn), arch_.hidden_act)) + attn);
      if (i == 0 && conv_w_.defined()) out = conv(embedded, out, fmask);
      x = out;
    }
    return x;
  }

  torch::Tensor head(const torch::Tensor& hidden) const override {
    BREADTH_CHECK_ARG(arch_.head != EncoderHead::kNone,
                      "'{}' has no classification head; load a Deberta(V2)ForSequenceClassification checkpoint",
                      arch_.pub.architecture);
    return classifier_(activation(pooler_(hidden.select(1, 0)), arch_.pooler_act)).to(torch::kFloat32);
  }

 private:
  // transformers' ConvLayer: a 1-D convolution over the (masked) embeddings added to the first
  // layer's output before a LayerNorm.
  torch::Tensor conv(const torch::Tensor& embedded, const torch::Tensor& residual, const torch::Tensor& fmask) const {
    const int64_t K = arch_.conv_kernel_size;
    auto out = torch::conv1d(embedded.permute({0, 2, 1}).contiguous(), conv_w_, conv_b_, 1, (K - 1) / 2, 1,
                             arch_.conv_groups)
                   .permute({0, 2, 1});
    out = out.masked_fill(fmask == 0, 0);
    out = activation(out, arch_.conv_act);
    return conv_norm_(residual + out) * fmask;
  }

  EncoderArch arch_;
  torch::ScalarType dtype_;
  torch::Tensor word_, pos_, type_;
  Linear embed_proj_;
  LayerNorm emb_norm_;
  torch::Tensor conv_w_, conv_b_;
  LayerNorm conv_norm_;
  std::vector<DebertaLayer> layers_;
  Linear pooler_, classifier_;
};

}  // namespace

std::unique_ptr<EncoderNet> make_deberta_net(const EncoderArch& arch, const WeightSource& src,
                                             torch::ScalarType dtype, torch::Device device) {
  return std::make_unique<DebertaNet>(arch, src, dtype, device);
}

}  // namespace breadth::model
