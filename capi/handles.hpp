// What the C handles hold. Each is a thin owner of the C++ object it names.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capi_internal.hpp"  // breadth.h without its deprecated names
#include "breadth/answer_set.hpp"
#include "breadth/baco.hpp"
#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "breadth/model.hpp"
#include "breadth/router.hpp"
#include "breadth/baco_rules.hpp"
#include "breadth/sampler.hpp"

struct breadth_model {
  std::shared_ptr<breadth::CausalLM> model;
};
struct breadth_generation {
  breadth::GenerateResult result;
};
struct breadth_answer_set {
  breadth::AnswerSet set;
};
struct breadth_rule {
  breadth::RulePtr rule;
  std::string name;  // cached so that breadth_rule_name can hand out a pointer the rule owns
};
struct breadth_baco {
  std::unique_ptr<breadth::BacoDecoder> decoder;
};
struct breadth_baco_result {
  breadth::BacoResult result;
};
struct breadth_divcov {
  breadth::DivCovResult result;
  std::vector<int32_t> partition;  // the int32 image of result.partition that views point into
};
struct breadth_router {
  std::shared_ptr<breadth::Router> router;
};
struct breadth_encoder {
  std::shared_ptr<breadth::Encoder> encoder;
};

namespace breadth::capi {
/// The model's tokenizer, or InvalidArgument naming the model when it has none.
const Tokenizer& tokenizer_of(const breadth_model* model);
/// Copies `s` into a malloc'd C string owned by the caller (released by breadth_string_free).
char* to_c_string(const std::string& s);
}  // namespace breadth::capi
