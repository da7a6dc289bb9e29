// `breadth generate`: greedy continuation of one prompt, streamed to stdout. The prompt goes
// through the checkpoint's chat template when it has one (one user turn + generation prompt).
#include <fmt/format.h>

#include <cstdio>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "breadth/tokenizer.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

struct Args {
  std::string model, prompt, dtype = breadth::dtype_name(breadth::ModelOptions{}.dtype),
              device = breadth::ModelOptions{}.device.str(),
              weights = breadth::weight_format_name(breadth::ModelOptions{}.weights);
  int64_t max_tokens = breadth::GenerateOptions{}.max_new_tokens;
  bool raw = false, cuda_graph = breadth::GenerateOptions{}.cuda_graph;
};

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("generate", "Greedy generation from one prompt");
  sub->add_option("--model", a->model, "Checkpoint (HF directory or .gguf)")->required();
  sub->add_option("--prompt", a->prompt, "The prompt (a user turn when the model has a chat template)")
      ->required();
  sub->add_option("--max-tokens", a->max_tokens, "Most new tokens")->capture_default_str();
  sub->add_option("--dtype", a->dtype, "float32 | bfloat16 (| float16 on CUDA)")->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--weights", a->weights, "native (quantized GGUF weights stay quantized) | float (expanded to --dtype)")->capture_default_str();
  sub->add_flag("--raw", a->raw, "Do not apply the chat template");
  sub->add_flag("--cuda-graph", a->cuda_graph,
                "Decode with the fixed-shape step, captured as a CUDA graph on a GPU (same tokens)");
  return [a] {
    if (a->max_tokens < 1) throw breadth::InvalidArgument("--max-tokens must be at least 1");
    breadth::ModelOptions opt;
    opt.dtype = breadth::parse_dtype(a->dtype, "--dtype");
    opt.device = breadth::parse_device(a->device, "--device");
    opt.weights = breadth::parse_weight_format(a->weights, "--weights");
    auto model = breadth::CausalLM::load(a->model, opt);
    auto tok = model->tokenizer();
    if (!tok)
      throw breadth::InvalidArgument("'" + a->model + "' has no tokenizer (tokenizer.json, tokenizer.model or "
                                     "a GGUF vocabulary); `breadth logits --ids` works without one");
    // Greedy generate(), streamed: the chat template when there is one (and not --raw), else the
    // raw prompt plus what the tokenizer's post-processor adds (e.g. BOS).
    breadth::GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_new_tokens = a->max_tokens;
    g.apply_chat_template = !a->raw;
    g.cuda_graph = a->cuda_graph;
    g.on_token = [](int64_t, int32_t, const std::string& piece) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
      return true;
    };
    breadth::generate(*model, {a->prompt}, g);
    std::fputs("\n", stdout);
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_generate(CLI::App& app) { return setup(app); }
