// A model's decode steps on one cache whose shapes never change, captured once as a CUDA graph.
#pragma once

#include <torch/types.h>

#include <memory>

#include "breadth/model.hpp"

namespace breadth::model {

/// Decode steps of one model on one cache, all with the same batch: the fixed-shape step
/// (ForwardOptions::fixed_shape). On a GPU in a CUDA build the second call captures the step as a
/// CUDA graph and later calls replay it: one launch instead of hundreds of kernel launches per token
/// (the first call runs eagerly, so that lazy initialisations and the cache's device cursor are
/// done outside the capture). Elsewhere every call runs the same step eagerly. The cache must be the
/// same one, never forked or grown, while a DecodeGraph steps it.
class DecodeGraph {
 public:
  explicit DecodeGraph(const CausalLM& model);
  ~DecodeGraph();
  DecodeGraph(const DecodeGraph&) = delete;
  DecodeGraph& operator=(const DecodeGraph&) = delete;

  /// next ids [B] on the model's device -> logits [B, V] float32 of the step. A replayed graph
  /// writes every step's logits into the same tensor: read them before the next call.
  torch::Tensor step(KvCache& cache, const torch::Tensor& next_ids);
  /// Whether the steps replay a captured graph (false on the CPU and in builds without CUDA).
  bool captured() const { return captured_ != nullptr; }

 private:
  struct Captured;
  const CausalLM& model_;
  std::unique_ptr<Captured> captured_;
  int64_t calls_ = 0;
};

}  // namespace breadth::model
