// Sizes and names of ggml's tensor element types (ggml.c type_traits; gguf-py GGML_QUANT_SIZES).
#include "core/check.hpp"
#include "io/gguf.hpp"

namespace breadth::io {

namespace {

struct TypeRow {
  GgmlType type;
  const char* name;
  int64_t block_elems;
  int64_t block_bytes;
};

constexpr int64_t kQKK = 256;
constexpr TypeRow kTypes[] = {
    {GgmlType::F32, "F32", 1, 4},
    {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 2 + 16},
    {GgmlType::Q4_1, "Q4_1", 32, 2 + 2 + 16},
    {GgmlType::Q5_0, "Q5_0", 32, 2 + 4 + 16},
    {GgmlType::Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16},
    {GgmlType::Q8_0, "Q8_0", 32, 2 + 32},
    {GgmlType::Q8_1, "Q8_1", 32, 2 + 2 + 32},
    {GgmlType::Q2_K, "Q2_K", kQKK, 2 + 2 + kQKK / 16 + kQKK / 4},
    {GgmlType::Q3_K, "Q3_K", kQKK, 2 + kQKK / 4 + kQKK / 8 + 12},
    {GgmlType::Q4_K, "Q4_K", kQKK, 2 + 2 + kQKK / 2 + 12},
    {GgmlType::Q5_K, "Q5_K", kQKK, 2 + 2 + kQKK / 2 + kQKK / 8 + 12},
    {GgmlType::Q6_K, "Q6_K", kQKK, 2 + kQKK / 2 + kQKK / 4 + kQKK / 16},
    {GgmlType::Q8_K, "Q8_K", kQKK, 4 + kQKK + kQKK / 8},
    {GgmlType::IQ2_XXS, "IQ2_XXS", kQKK, 2 + kQKK / 4},
    {GgmlType::IQ2_XS, "IQ2_XS", kQKK, 2 + kQKK / 4 + kQKK / 32},
    {GgmlType::IQ3_XXS, "IQ3_XXS", kQKK, 2 + kQKK / 4 + kQKK / 8},
    {GgmlType::IQ1_S, "IQ1_S", kQKK, 2 + kQKK / 8 + kQKK / 16},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 2 + 16},
    {GgmlType::IQ3_S, "IQ3_S", kQKK, 2 + kQKK / 4 + kQKK / 8 + kQKK / 32 + 4},
    {GgmlType::IQ2_S, "IQ2_S", kQKK, 2 + kQKK / 4 + kQKK / 16},
    {GgmlType::IQ4_XS, "IQ4_XS", kQKK, 2 + 2 + kQKK / 2 + kQKK / 64},
    {GgmlType::I8, "I8", 1, 1},
    {GgmlType::I16, "I16", 1, 2},
    {GgmlType::I32, "I32", 1, 4},
    {GgmlType::I64, "I64", 1, 8},
    {GgmlType::F64, "F64", 1, 8},
    {GgmlType::IQ1_M, "IQ1_M", kQKK, kQKK / 8 + kQKK / 16 + kQKK / 32},
    {GgmlType::BF16, "BF16", 1, 2},
    {GgmlType::TQ1_0, "TQ1_0", kQKK, 2 + 4 * 13},
    {GgmlType::TQ2_0, "TQ2_0", kQKK, 2 + 64},
    {GgmlType::MXFP4, "MXFP4", 32, 1 + 16},
};

const TypeRow* row(GgmlType t) {
  for (const auto& r : kTypes)
    if (r.type == t) return &r;
  return nullptr;
}

}  // namespace

std::string ggml_type_name(GgmlType t) {
  const TypeRow* r = row(t);
  return r ? std::string(r->name) : "type#" + std::to_string(static_cast<uint32_t>(t));
}

GgmlBlockInfo ggml_block_info(GgmlType t) {
  const TypeRow* r = row(t);
  if (!r)
    fail<Unsupported>("ggml tensor type {} is unknown to breadth (a newer quantization?); re-quantize "
                      "the model to a common type such as Q8_0, Q4_K or F16",
                      static_cast<uint32_t>(t));
  return {r->block_elems, r->block_bytes};
}

}  // namespace breadth::io
