// The fused Adam step of the MLP trainer. Its own file, compiled without errno-setting sqrt (so that
// the loop vectorizes) and without the torch precompiled header (whose flags differ).
#include <cmath>
#include <cstdint>

namespace breadth::routing {

/// One step of torch.optim.Adam (L2 weight decay added to the gradient, no amsgrad) over flat
/// buffers, fused into one pass.
void adam_step(float* p, const float* g, float* m, float* v, int64_t n, int64_t step, double lr, double wd,
               double beta1, double beta2, double eps) {
  const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
  const float c1 = 1.0f - b1, c2 = 1.0f - b2, w = static_cast<float>(wd), e = static_cast<float>(eps);
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(beta1, static_cast<double>(step))));
  const float inv_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step))));
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + w * p[i];
    float mi = b1 * m[i] + c1 * gi;
    float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_bc2 + e);
  }
}

}  // namespace breadth::routing
