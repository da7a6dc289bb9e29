// GGUF weights kept quantized on a CUDA device (issue 17): gemv_grouped.cu's decode kernel and
// dequantization against the same float64 reference as the CPU kernels, and the real SmolLM2 GGUF
// native on cuda:0 against transformers and against native on the CPU.
//
// Registered only in a CUDA build (BREADTH_CUDA=ON), under the ctest label "gpu". It fails, never
// skips, where no GPU is visible.
#include <torch/cuda.h>

#include "breadth/model.hpp"
#include "grouped_test_util.hpp"
#include "model_test_util.hpp"

using namespace breadth;

namespace {

std::shared_ptr<CausalLM> smollm2(const std::string& device) {
  ModelOptions o;
  o.weights = WeightFormat::kNative;
  o.device = parse_device(device, "device");
  return CausalLM::load(breadth::test::models_dir() + "/smollm2-135m-instruct.gguf", o);
}

}  // namespace

TEST_CASE("grouped projections on a GPU equal dequantize-then-multiply within the float32 bound",
          "[model][quantized][gpu]") {
  REQUIRE(torch::cuda::is_available());
  for (const auto& form : breadth::test::grouped_forms())
    breadth::test::check_grouped_projection(form, torch::Device("cuda:0"));
}

TEST_CASE("SmolLM2 GGUF with native weights on a GPU", "[model][quantized][gguf][gpu]") {
  REQUIRE(torch::cuda::is_available());
  auto gpu = smollm2("cuda:0"), cpu = smollm2("cpu");
  // The blocks stayed blocks on the device: the same bytes as on the CPU but for the embedding
  // table, which a GPU holds expanded in float32 (the CPU decodes its rows from the file; the tied
  // head stays quantized on both).
  const int64_t table = int64_t{49152} * 576 * 4;
  CHECK(gpu->weight_bytes() == cpu->weight_bytes() + table);
  // Against transformers on the expanded file within the float path's tolerance, the same 32
  // greedy tokens (test_quantized.cpp's check on the CPU).
  auto ref = breadth::test::read_tensors(breadth::test::fixtures_dir() + "/smollm2_reference/smollm2.ref.safetensors");
  breadth::test::check_greedy_against_reference(*gpu, ref, 2e-3);
  // And against native on the CPU, step by step.
  auto a = breadth::test::greedy_against_reference(*gpu, ref), b = breadth::test::greedy_against_reference(*cpu, ref);
  CHECK(a.ids == b.ids);
}
