// The training options that tests/routing_pipeline/make_bert_router_reference.py used for its
// PyTorch reference, as BertRouterOptions: shared by the tests that train against it (routing_bert
// in C++, capi through the C API).
#pragma once

#include <string>

#include "breadth/router_pipeline.hpp"

namespace breadth::test {

/// `options` is reference.json's "options" object (any nlohmann JSON type); one soft-label run.
template <typename Json>
BertRouterOptions bert_reference_options(const Json& options, const std::string& encoder) {
  BertRouterOptions o;
  o.encoder = encoder;
  o.max_length = options["max_length"];
  o.learning_rate = options["learning_rate"];
  o.weight_decay = options["weight_decay"];
  o.batch_size = options["batch_size"];
  o.max_epochs = options["max_epochs"];
  o.patience = options["patience"];
  o.seed = options["seed"];
  o.labels = {LabelType::kSoft};
  return o;
}

}  // namespace breadth::test
