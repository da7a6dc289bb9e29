// Weight access and the small pure functions every encoder family shares.
#include "encoder/encoder_net.hpp"

#include <torch/torch.h>

#include "core/check.hpp"

namespace breadth::model {

torch::Tensor Linear::operator()(const torch::Tensor& x) const { return torch::linear(x, w, b); }

torch::Tensor LayerNorm::operator()(const torch::Tensor& x) const {
  return torch::layer_norm(x, {w.size(0)}, w, b, eps);
}

EncoderWeights::EncoderWeights(const WeightSource& src, std::string prefix, torch::ScalarType dtype,
                               torch::Device device)
    : src_(src), prefix_(std::move(prefix)), dtype_(dtype), device_(device) {}

torch::Tensor EncoderWeights::full(const std::string& name, const std::vector<int64_t>& shape) const {
  return load_checked(src_, name, shape, dtype_).to(device_);
}

torch::Tensor EncoderWeights::base(const std::string& name, const std::vector<int64_t>& shape) const {
  return full(prefix_ + name, shape);
}

Linear EncoderWeights::linear(const std::string& name, int64_t out, int64_t in, bool bias, bool base_model) const {
  const std::string n = (base_model ? prefix_ : std::string()) + name;
  Linear l;
  l.w = full(n + ".weight", {out, in});
  if (bias) l.b = full(n + ".bias", {out});
  return l;
}

LayerNorm EncoderWeights::layer_norm(const std::string& name, int64_t size, double eps, bool base_model) const {
  const std::string n = (base_model ? prefix_ : std::string()) + name;
  LayerNorm l;
  l.eps = eps;
  // Checkpoints converted from TensorFlow name the LayerNorm parameters gamma/beta.
  const bool old = !src_.has(n + ".weight") && src_.has(n + ".gamma");
  l.w = full(n + (old ? ".gamma" : ".weight"), {size});
  l.b = full(n + (old ? ".beta" : ".bias"), {size});
  return l;
}

std::string find_prefix(const WeightSource& src, const std::string& probe) {
  for (const char* p : {"", "bert.", "roberta.", "deberta.", "model."})
    if (src.has(std::string(p) + probe)) return p;
  fail<FormatError>("checkpoint '{}' has no tensor '{}' (nor under bert./roberta./deberta./model.); the "
                    "weights belong to another architecture than config.json says",
                    src.origin(), probe);
}

torch::Tensor roberta_position_ids(const torch::Tensor& mask, int64_t padding_idx) {
  auto m = mask.to(torch::kInt64);
  return torch::cumsum(m, 1) * m + padding_idx;
}

torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& mode) {
  auto h = hidden.to(torch::kFloat32);
  auto m = mask.to(torch::kFloat32).unsqueeze(-1);
  if (mode == "cls") {
    // The first real token (right padding: column 0).
    auto first = mask.to(torch::kInt32).argmax(1);
    return h.gather(1, first.to(torch::kInt64).view({-1, 1, 1}).expand({-1, 1, h.size(2)})).squeeze(1);
  }
  if (mode == "lasttoken") {
    // The last real token (sentence-transformers: the first maximum of the flipped mask), either
    // padding side.
    const int64_t T = mask.size(1);
    auto last = (T - 1) - mask.to(torch::kInt32).flip({1}).argmax(1).to(torch::kInt64);
    return h.gather(1, last.view({-1, 1, 1}).expand({-1, 1, h.size(2)})).squeeze(1);
  }
  if (mode == "max")
    return h.masked_fill(m.expand_as(h) == 0, -std::numeric_limits<float>::infinity()).amax(1);
  auto sum = (h * m).sum(1);
  auto count = m.sum(1).clamp_min(1e-9);
  if (mode == "mean") return sum / count;
  if (mode == "mean_sqrt_len") return sum / count.sqrt();
  fail<Unsupported>("pooling mode '{}' is not supported (cls, mean, max, mean_sqrt_len, lasttoken)", mode);
}

}  // namespace breadth::model
