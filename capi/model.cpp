// C API: models and tokens.
#include <cstdlib>
#include <cstring>

#include "breadth/chat_template.hpp"
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

namespace breadth::capi {

const Tokenizer& tokenizer_of(const breadth_model* model) {
  BREADTH_C_REQUIRE(model, "model is NULL; load one with breadth_model_load");
  auto tok = model->model->tokenizer();
  BREADTH_C_REQUIRE(tok, "the model has no tokenizer; load a checkpoint that includes one");
  return *tok;
}

char* to_c_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (!out) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

}  // namespace breadth::capi

extern "C" {

breadth_status breadth_model_load(const char* path, const breadth_model_options* options,
                                  breadth_model** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(path && out, "breadth_model_load: path and out must not be NULL");
    *out = nullptr;
    const breadth_model_options o = breadth::capi::read_options(options, "options");
    breadth::ModelOptions mo;
    if (o.device) mo.device = breadth::parse_device(o.device, "options->device");
    mo.dtype = breadth::capi::scalar_type_of(breadth::capi::c_enum(o.dtype));
    const int weights = breadth::capi::c_enum(o.weights);
    BREADTH_C_REQUIRE(weights == BREADTH_WEIGHTS_NATIVE || weights == BREADTH_WEIGHTS_FLOAT,
                      "options->weights must be BREADTH_WEIGHTS_NATIVE or BREADTH_WEIGHTS_FLOAT");
    mo.weights = weights == BREADTH_WEIGHTS_NATIVE ? breadth::WeightFormat::kNative
                                                   : breadth::WeightFormat::kFloat;
    auto m = std::make_unique<breadth_model>();
    m->model = breadth::CausalLM::load(path, mo);
    *out = m.release();
  })
}

void breadth_model_free(breadth_model* model) { delete model; }

breadth_status breadth_model_vocab_size(const breadth_model* model, int32_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(model && out, "breadth_model_vocab_size: model and out must not be NULL");
    *out = static_cast<int32_t>(model->model->config().vocab_size);
  })
}

breadth_status breadth_model_weight_bytes(const breadth_model* model, int64_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(model && out, "breadth_model_weight_bytes: model and out must not be NULL");
    *out = model->model->weight_bytes();
  })
}

breadth_status breadth_tokenize(const breadth_model* model, const char* text, int add_special,
                                int chat, breadth_tokens* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(text && out, "breadth_tokenize: text and out must not be NULL");
    *out = breadth_tokens{nullptr, 0};
    const auto& tok = breadth::capi::tokenizer_of(model);
    if (chat)
      BREADTH_C_REQUIRE(tok.chat_template(), "breadth_tokenize: chat=1 but the model has no chat template");
    // add_special applies on top of the rendering too: the caller asked for it explicitly.
    auto ids = chat ? tok.encode_chat(text, tok.chat_template(), add_special != 0)
                    : tok.encode(text, add_special != 0);
    out->ids = static_cast<int32_t*>(std::malloc(std::max<size_t>(1, ids.size()) * sizeof(int32_t)));
    if (!out->ids) throw std::bad_alloc();
    std::memcpy(out->ids, ids.data(), ids.size() * sizeof(int32_t));
    out->count = ids.size();
  })
}

void breadth_tokens_free(breadth_tokens* tokens) {
  if (!tokens) return;
  std::free(tokens->ids);
  tokens->ids = nullptr;
  tokens->count = 0;
}

breadth_status breadth_detokenize(const breadth_model* model, const int32_t* ids, size_t count,
                                  int skip_special, char** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out && (ids || count == 0), "breadth_detokenize: ids and out must not be NULL");
    *out = nullptr;
    const auto& tok = breadth::capi::tokenizer_of(model);
    std::vector<int32_t> v(ids, ids + count);
    *out = breadth::capi::to_c_string(tok.decode(v, skip_special != 0));
  })
}

void breadth_string_free(char* s) { std::free(s); }

}  // extern "C"
