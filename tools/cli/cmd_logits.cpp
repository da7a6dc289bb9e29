// `breadth logits`: the next-token logits after a list of ids, as one JSON array (the whole
// vocabulary, shortest round-trip float formatting), for comparisons with other runtimes.
#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

struct Args {
  std::string model, ids, dtype = breadth::dtype_name(breadth::ModelOptions{}.dtype),
              device = breadth::ModelOptions{}.device.str(),
              weights = breadth::weight_format_name(breadth::ModelOptions{}.weights);
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0 || v > INT32_MAX)
      throw breadth::InvalidArgument("--ids must be comma-separated token ids, got '" + item + "'");
    out.push_back(static_cast<int32_t>(v));
  }
  if (out.empty()) throw breadth::InvalidArgument("--ids is empty; give e.g. --ids 1,2,3");
  return out;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("logits", "Print the last position's logits over the vocabulary as JSON");
  sub->add_option("--model", a->model, "Checkpoint (HF directory or .gguf)")->required();
  sub->add_option("--ids", a->ids, "Comma-separated token ids, e.g. 1,2,3")->required();
  sub->add_option("--dtype", a->dtype, "float32 | bfloat16 (| float16 on CUDA)")->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--weights", a->weights, "native (quantized GGUF weights stay quantized) | float (expanded to --dtype)")->capture_default_str();
  return [a] {
    auto ids = parse_ids(a->ids);
    breadth::ModelOptions opt;
    opt.dtype = breadth::parse_dtype(a->dtype, "--dtype");
    opt.device = breadth::parse_device(a->device, "--device");
    opt.weights = breadth::parse_weight_format(a->weights, "--weights");
    auto model = breadth::CausalLM::load(a->model, opt);
    breadth::KvCache cache;
    auto logits = model->prefill(cache, {ids})[0].to(torch::kCPU).contiguous();
    const float* p = logits.data_ptr<float>();
    std::string out = "[";
    out.reserve(static_cast<size_t>(logits.numel()) * 12);
    for (int64_t i = 0; i < logits.numel(); ++i) {
      if (i) out += ',';
      // JSON has no NaN/Infinity; null keeps the array parseable and the position visible.
      out += std::isfinite(p[i]) ? fmt::format("{}", p[i]) : std::string("null");
    }
    out += "]\n";
    fmt::print("{}", out);
    return 0;
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_logits(CLI::App& app) { return setup(app); }
