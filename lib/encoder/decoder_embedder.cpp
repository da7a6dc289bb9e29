// Decoder base models (Qwen2Model, Qwen3/Llama/Mistral) as sentence embedders, as sentence-transformers
// runs them: the model component's decoder with causal attention, hidden states after the final norm,
// usually pooled at the last token (inf-retriever, gte-Qwen2, Qwen3-Embedding).
#include <torch/torch.h>

#include "core/check.hpp"
#include "encoder/encoder_net.hpp"
#include "model/decoder.hpp"

namespace breadth::model {

namespace {

class DecoderNet final : public EncoderNet {
 public:
  DecoderNet(const EncoderArch& arch, const WeightSource& src, torch::ScalarType dtype, torch::Device device)
      : arch_(arch) {
    ModelOptions o;
    o.device = device;
    o.dtype = dtype;
    auto base = base_model_source(src);
    lm_ = make_decoder(arch.decoder, *base, o, "");
  }

  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor&) const override {
    // Right padding: every real token keeps positions 0..n-1 and never sees padding, as in
    // transformers with the attention mask.
    KvCache cache;
    ForwardOptions fo;
    fo.last_only = false;
    fo.want_hidden = true;
    return lm_->forward(cache, ids, mask.to(torch::kBool), fo).hidden;
  }

  torch::Tensor head(const torch::Tensor&) const override {
    fail<InvalidArgument>("'{}' is an embedder without a classification head", arch_.pub.architecture);
  }

 private:
  EncoderArch arch_;
  std::shared_ptr<CausalLM> lm_;
};

}  // namespace

std::unique_ptr<EncoderNet> make_decoder_net(const EncoderArch& arch, const WeightSource& src,
                                             torch::ScalarType dtype, torch::Device device) {
  return std::make_unique<DecoderNet>(arch, src, dtype, device);
}

}  // namespace breadth::model
