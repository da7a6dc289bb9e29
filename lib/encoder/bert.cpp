// BERT and RoBERTa: absolute position embeddings, post-norm blocks, scaled dot-product attention
// over the unpadded keys. RoBERTa differs only in its position ids (offset by padding_idx + 1) and
// its classification head.
#include <torch/torch.h>

#include "core/check.hpp"
#include "encoder/encoder_net.hpp"

namespace breadth::model {

namespace {

struct BertLayer {
  Linear q, k, v, attn_out, up, down;
  LayerNorm attn_norm, out_norm;
};

class BertNet final : public EncoderNet {
 public:
  BertNet(const EncoderArch& arch, const WeightSource& src, torch::ScalarType dtype, torch::Device device)
      : arch_(arch) {
    const auto& p = arch.pub;
    const int64_t H = p.hidden_size, I = arch.intermediate_size;
    EncoderWeights w(src, find_prefix(src, "embeddings.word_embeddings.weight"), dtype, device);
    word_ = w.base("embeddings.word_embeddings.weight", {p.vocab_size, H});
    pos_ = w.base("embeddings.position_embeddings.weight", {p.max_position, H});
    if (arch.type_vocab_size > 0) type_ = w.base("embeddings.token_type_embeddings.weight", {arch.type_vocab_size, H});
    emb_norm_ = w.layer_norm("embeddings.LayerNorm", H, arch.layer_norm_eps);
    for (int64_t i = 0; i < p.num_layers; ++i) {
      const std::string l = "encoder.layer." + std::to_string(i) + ".";
      BertLayer b;
      b.q = w.linear(l + "attention.self.query", H, H);
      b.k = w.linear(l + "attention.self.key", H, H);
      b.v = w.linear(l + "attention.self.value", H, H);
      b.attn_out = w.linear(l + "attention.output.dense", H, H);
      b.attn_norm = w.layer_norm(l + "attention.output.LayerNorm", H, arch.layer_norm_eps);
      b.up = w.linear(l + "intermediate.dense", I, H);
      b.down = w.linear(l + "output.dense", H, I);
      b.out_norm = w.layer_norm(l + "output.LayerNorm", H, arch.layer_norm_eps);
      layers_.push_back(std::move(b));
    }
    if (arch.head == EncoderHead::kBertPooler) {
      pooler_ = w.linear("pooler.dense", H, H);
      classifier_ = w.linear("classifier", p.num_labels, H, true, /*base=*/false);
    } else if (arch.head == EncoderHead::kRobertaHead) {
      pooler_ = w.linear("classifier.dense", H, H, true, false);
      classifier_ = w.linear("classifier.out_proj", p.num_labels, H, true, false);
    }
  }

  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& mask,
                       const torch::Tensor& type_ids) const override {
    const auto& p = arch_.pub;
    const int64_t B = ids.size(0), T = ids.size(1), heads = p.num_heads, D = p.hidden_size / heads;
    torch::Tensor positions;
    if (arch_.family == EncoderFamily::kRoberta) {
      positions = roberta_position_ids(mask, arch_.pad_token_id);
    } else {
      positions = torch::arange(T, ids.options()).unsqueeze(0).expand({B, T});
    }
    auto x = torch::embedding(word_, ids) + torch::embedding(pos_, positions);
    if (type_.defined()) x = x + torch::embedding(type_, type_ids);
    x = emb_norm_(x);
    auto key_mask = mask.to(torch::kBool).view({B, 1, 1, T});
    auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, D}).transpose(1, 2); };
    for (const auto& l : layers_) {
      auto ctx = at::scaled_dot_product_attention(split(l.q(x)), split(l.k(x)), split(l.v(x)), key_mask);
      ctx = ctx.transpose(1, 2).reshape({B, T, p.hidden_size});
      x = l.attn_norm(l.attn_out(ctx) + x);
      x = l.out_norm(l.down(activation(l.up(x), arch_.hidden_act)) + x);
    }
    return x;
  }

  std::unique_ptr<EncoderNet> trainable_copy(
      std::vector<std::pair<std::string, torch::Tensor>>& params) const override {
    auto copy = std::make_unique<BertNet>(*this);
    copy->pooler_ = {};
    copy->classifier_ = {};
    params.clear();
    copy->visit_base([&](const std::string& name, torch::Tensor& t) {
      t = t.detach().clone().requires_grad_(true);
      params.emplace_back(name, t);
    });
    return copy;
  }

  torch::Tensor head(const torch::Tensor& hidden) const override {
    BREADTH_CHECK_ARG(arch_.head != EncoderHead::kNone,
                      "'{}' has no classification head; load a *ForSequenceClassification checkpoint",
                      arch_.pub.architecture);
    auto first = hidden.select(1, 0);
    return classifier_(torch::tanh(pooler_(first))).to(torch::kFloat32);
  }

 private:
  // Every base-model tensor under its Hugging Face name (without the model prefix).
  template <typename F>
  void visit_base(F&& f) {
    f("embeddings.word_embeddings.weight", word_);
    f("embeddings.position_embeddings.weight", pos_);
    if (type_.defined()) f("embeddings.token_type_embeddings.weight", type_);
    auto linear = [&](const std::string& n, Linear& l) {
      f(n + ".weight", l.w);
      if (l.b.defined()) f(n + ".bias", l.b);
    };
    auto norm = [&](const std::string& n, LayerNorm& l) {
      f(n + ".weight", l.w);
      f(n + ".bias", l.b);
    };
    norm("embeddings.LayerNorm", emb_norm_);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const std::string l = "encoder.layer." + std::to_string(i) + ".";
      auto& b = layers_[i];
      linear(l + "attention.self.query", b.q);
      linear(l + "attention.self.key", b.k);
      linear(l + "attention.self.value", b.v);
      linear(l + "attention.output.dense", b.attn_out);
      norm(l + "attention.output.LayerNorm", b.attn_norm);
      linear(l + "intermediate.dense", b.up);
      linear(l + "output.dense", b.down);
      norm(l + "output.LayerNorm", b.out_norm);
    }
  }

  EncoderArch arch_;
  torch::Tensor word_, pos_, type_;
  LayerNorm emb_norm_;
  std::vector<BertLayer> layers_;
  Linear pooler_, classifier_;
};

}  // namespace

std::unique_ptr<EncoderNet> make_bert_net(const EncoderArch& arch, const WeightSource& src,
                                          torch::ScalarType dtype, torch::Device device) {
  return std::make_unique<BertNet>(arch, src, dtype, device);
}

}  // namespace breadth::model
