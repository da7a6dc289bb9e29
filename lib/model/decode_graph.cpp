#include "model/decode_graph.hpp"

#include <torch/torch.h>

#ifdef BREADTH_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "core/check.hpp"
#include "model/kv_cache_state.hpp"

namespace breadth::model {

struct DecodeGraph::Captured {
#ifdef BREADTH_WITH_CUDA
  at::cuda::CUDAGraph graph;
#endif
  torch::Tensor ids;     // [B, 1] int64: the graph's input, written before each replay
  torch::Tensor logits;  // the graph's output
  const KvCacheAccess::State* state = nullptr;  // the cache it was captured on
};

DecodeGraph::DecodeGraph(const CausalLM& model) : model_(model) {}
DecodeGraph::~DecodeGraph() = default;

torch::Tensor DecodeGraph::step(KvCache& cache, const torch::Tensor& next_ids) {
  BREADTH_CHECK_ARG(next_ids.defined() && next_ids.dim() == 1,
                    "DecodeGraph::step: next_ids must be a [batch] tensor of token ids");
  ForwardOptions fixed;
  fixed.fixed_shape = true;
  auto ids = next_ids.to(torch::kInt64).reshape({-1, 1});
  ++calls_;
#ifdef BREADTH_WITH_CUDA
  if (model_.device().is_cuda() && calls_ > 1) {
    auto& state = KvCacheAccess::state(cache);
    if (!captured_) {
      captured_ = std::make_unique<Captured>();
      captured_->ids = ids.clone();
      captured_->state = state.get();
      // Captured on a side stream once the device is idle (as torch.cuda.graph does); the capture
      // runs forward()'s host side (the cache's column count advances once) but no kernel.
      c10::cuda::device_synchronize();
      auto side = c10::cuda::getStreamFromPool();
      {
        c10::cuda::CUDAStreamGuard guard(side);
        captured_->graph.capture_begin();
        captured_->logits = model_.forward(cache, captured_->ids, {}, fixed).logits;
        captured_->graph.capture_end();
      }
      captured_->graph.replay();
      return captured_->logits;
    }
    BREADTH_CHECK_ARG(state.get() == captured_->state && ids.sizes() == captured_->ids.sizes(),
                      "DecodeGraph::step: the cache or the batch changed since the step was captured; "
                      "make a new DecodeGraph");
    state->require_room_without_growing();
    captured_->ids.copy_(ids);
    captured_->graph.replay();
    // The host side of forward() that a replay does not run.
    state->columns += 1;
    return captured_->logits;
  }
#endif
  return model_.forward(cache, ids, {}, fixed).logits;
}

}  // namespace breadth::model
