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
  bool raw = false;
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
    // The chat template when there is one (and not --raw), else the raw prompt plus what the
    // tokenizer's post-processor adds (e.g. BOS): the same ids `breadth sample` and generate() use.
    std::vector<int32_t> ids = breadth::encode_prompt(*model, a->prompt, /*apply_chat_template=*/!a->raw);
    if (ids.empty()) throw breadth::InvalidArgument("the prompt encodes to no tokens");
    const auto& eos = tok->eos_ids();
    breadth::KvCache cache = model->new_cache(1, static_cast<int64_t>(ids.size()) + a->max_tokens);
    auto logits = model->prefill(cache, {ids});
    breadth::IncrementalDecoder out(tok);
    for (int64_t step = 0; step < a->max_tokens; ++step) {
      auto next = logits.argmax(-1);  // [1]
      const auto id = static_cast<int32_t>(next.item<int64_t>());
      if (std::find(eos.begin(), eos.end(), id) != eos.end()) break;
      std::fputs(out.push(id).c_str(), stdout);
      std::fflush(stdout);
      if (step + 1 < a->max_tokens) logits = model->decode(cache, next);
    }
    std::fputs(out.flush().c_str(), stdout);
    std::fputs("\n", stdout);
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_generate(CLI::App& app) { return setup(app); }
