// Seeded generators and the categorical draw.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/DistributionsHelper.h>
#include <torch/torch.h>

#include <mutex>

#include "breadth/sampler.hpp"
#include "core/check.hpp"
#include "sampling/uniform.hpp"

namespace breadth {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

double sampling::next_uniform(torch::Generator& gen) {
  BREADTH_CHECK_ARG(gen.defined() && gen.device().is_cpu(),
                    "draw: every generator must be a CPU generator (see make_generator)");
  std::lock_guard<std::mutex> lock(gen.mutex());
  auto* impl = at::check_generator<at::CPUGeneratorImpl>(gen);
  at::uniform_real_distribution<double> uniform(0.0, 1.0);
  return uniform(impl);
}

uint64_t sample_seed(uint64_t seed, uint64_t index) {
  return splitmix64(splitmix64(seed) ^ (index * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL));
}

torch::Generator make_generator(uint64_t seed, uint64_t index) {
  return at::make_generator<at::CPUGeneratorImpl>(sample_seed(seed, index));
}

std::vector<torch::Generator> make_generators(uint64_t seed, uint64_t first, int64_t count) {
  BREADTH_CHECK_ARG(count >= 0, "make_generators: count must be >= 0, got {}", count);
  std::vector<torch::Generator> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.push_back(make_generator(seed, first + static_cast<uint64_t>(i)));
  return out;
}

torch::Tensor draw(const torch::Tensor& logits, std::vector<torch::Generator>& gens,
                   const std::vector<int64_t>& rows) {
  BREADTH_CHECK_ARG(logits.defined() && logits.dim() == 2 && logits.size(1) > 0 &&
                        logits.is_floating_point(),
                    "draw: logits must be a floating-point [B, V] tensor");
  const int64_t B = logits.size(0);
  BREADTH_CHECK_ARG(static_cast<int64_t>(rows.size()) == B,
                    "draw: {} rows given for a batch of {}", rows.size(), B);
  std::vector<double> u(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    int64_t g = rows[static_cast<size_t>(b)];
    BREADTH_CHECK_ARG(g >= 0 && g < static_cast<int64_t>(gens.size()),
                      "draw: row {} asks for generator {} but {} were given", b, g, gens.size());
    u[static_cast<size_t>(b)] = sampling::next_uniform(gens[static_cast<size_t>(g)]);
  }
  return sampling::draw_at(logits, sampling::to_device(torch::from_blob(u.data(), {B}, torch::kFloat64),
                                                      logits.device()));
}

torch::Tensor sampling::to_device(const torch::Tensor& host, torch::Device device) {
  if (device.is_cpu()) return host;
  // Pinned and non-blocking: the copy is queued behind the device's work instead of waiting for it.
  return host.pin_memory().to(device, host.scalar_type(), /*non_blocking=*/true);
}

torch::Tensor sampling::on_device(const torch::Tensor& t, torch::Device device) {
  return t.device() == device ? t : t.to(device);
}

std::vector<double> sampling::peek_uniforms(torch::Generator gen, int64_t k) {
  BREADTH_CHECK_ARG(gen.defined() && gen.device().is_cpu(),
                    "draw: every generator must be a CPU generator (see make_generator)");
  torch::Generator copy;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    copy = gen.clone();
  }
  std::vector<double> out(static_cast<size_t>(k));
  for (auto& x : out) x = next_uniform(copy);
  return out;
}

torch::Tensor sampling::draw_at(const torch::Tensor& logits, const torch::Tensor& u) {
  BREADTH_CHECK_ARG(u.defined() && u.dim() == 1 && u.size(0) == logits.size(0),
                    "draw: {} uniforms for a batch of {}", u.defined() ? u.numel() : 0, logits.size(0));
  auto ut = u.to(torch::kFloat64).unsqueeze(1);
  // Inverse CDF in float64: token i is drawn when cdf[i-1] <= u * total < cdf[i], so a token of
  // probability 0 (an empty interval) can never be drawn.
  auto cdf = torch::softmax(logits.to(torch::kFloat32), -1).to(torch::kFloat64).cumsum(-1);
  auto total = cdf.narrow(1, cdf.size(1) - 1, 1);
  auto ids = torch::searchsorted(cdf, ut * total, /*out_int32=*/false, /*right=*/true).squeeze(1);
  // u * total can round up to total; the last token with mass is where cdf first reaches its max.
  ids = torch::minimum(ids, cdf.argmax(-1));
  // A row without a valid distribution (all -inf, NaN) yields -1 for the caller to report.
  return torch::where((total.squeeze(1) > 0) & total.squeeze(1).isfinite(), ids,
                      torch::full_like(ids, -1));
}

torch::Tensor sampling::sample_at(const Sampler& sampler, const torch::Tensor& logits, const torch::Tensor& u) {
  auto t = sampler.transform(logits);
  return sampler.options().greedy() ? greedy(t) : draw_at(t, u);
}

torch::Tensor draw(const torch::Tensor& logits, std::vector<torch::Generator>& gens) {
  std::vector<int64_t> rows(static_cast<size_t>(logits.defined() && logits.dim() > 0 ? logits.size(0) : 0));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  return draw(logits, gens, rows);
}

torch::Tensor greedy(const torch::Tensor& logits) {
  BREADTH_CHECK_ARG(logits.defined() && logits.dim() == 2 && logits.size(1) > 0,
                    "greedy: logits must be a [B, V] tensor");
  return logits.argmax(-1);
}

// ------------------------------------------------------------------------------------ Sampler

Sampler::Sampler(SamplingOptions options, TransformChain extra)
    : options_(options), chain_(make_chain(options, extra)) {}

torch::Tensor Sampler::transform(const torch::Tensor& logits) const { return apply(chain_, logits); }

torch::Tensor Sampler::sample(const torch::Tensor& logits, std::vector<torch::Generator>& gens,
                              const std::vector<int64_t>& rows, torch::Tensor* transformed) const {
  auto t = transform(logits);
  if (transformed) *transformed = t;
  if (options_.greedy()) return greedy(t);
  return rows.empty() ? draw(t, gens) : draw(t, gens, rows);
}

}  // namespace breadth
