// Tokens per second of breadth's decoder: prefill of B prompts of P tokens, then N greedy decode
// steps, at several batch sizes; plus the machine's memory bandwidth (decode at batch 1 streams every
// weight once per token, so bandwidth / weight bytes bounds it). One JSON object per line.
//
// usage: bench_decode MODEL [--dtype float32|bfloat16] [--batches 1,10] [--prompt 128] [--new 64]
//                           [--repeats 3] [--threads 2] [--bandwidth]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "breadth/model.hpp"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Resident memory of this process (VmRSS), MiB.
double resident_mib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmRSS: %lf kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb / 1024.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoll(item));
  return out;
}

void bandwidth(int repeats) {
  // 1 GiB of float32: far beyond the caches. copy_ reads and writes; sum only reads (like decode).
  const int64_t n = (int64_t{1} << 30) / 4;
  auto a = torch::rand({n});
  auto b = torch::empty_like(a);
  std::vector<double> copy_t, read_t;
  for (int r = 0; r < repeats + 1; ++r) {
    double t0 = now();
    b.copy_(a);
    double t1 = now();
    volatile float s = a.sum().item<float>();
    (void)s;
    double t2 = now();
    if (r == 0) continue;  // first touch faults pages in
    copy_t.push_back(t1 - t0);
    read_t.push_back(t2 - t1);
  }
  const double bytes = static_cast<double>(n) * 4;
  std::printf("{\"kind\": \"bandwidth\", \"copy_gb_s\": %.2f, \"read_gb_s\": %.2f}\n",
              2 * bytes / median(copy_t) / 1e9, bytes / median(read_t) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--dtype float32|bfloat16] [--batches 1,10] [--prompt P] "
                         "[--new N] [--repeats R] [--threads T] [--bandwidth] [--weights native|float]\n", argv[0]);
    return 2;
  }
  std::string model_path = argv[1], dtype_s = "float32",
              weights_s = breadth::weight_format_name(breadth::ModelOptions{}.weights);
  std::vector<int64_t> batches = {1, 10};
  int64_t prompt = 128, fresh = 64, repeats = 3, threads = 2;
  bool bw = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--dtype") dtype_s = next();
    else if (a == "--batches") batches = parse_list(next());
    else if (a == "--prompt") prompt = std::stoll(next());
    else if (a == "--new") fresh = std::stoll(next());
    else if (a == "--repeats") repeats = std::stoll(next());
    else if (a == "--threads") threads = std::stoll(next());
    else if (a == "--bandwidth") bw = true;
    else if (a == "--weights") weights_s = next();
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  torch::set_num_threads(static_cast<int>(threads));
  if (bw) bandwidth(static_cast<int>(repeats));

  breadth::ModelOptions opt;
  opt.dtype = breadth::parse_dtype(dtype_s, "--dtype");
  opt.weights = breadth::parse_weight_format(weights_s, "--weights");
  (void)torch::ones({8}).sum();  // libtorch's own start-up is not the model's memory
  const double rss_before = resident_mib();
  double t0 = now();
  auto model = breadth::CausalLM::load(model_path, opt);
  const double load_s = now() - t0;
  const double model_mib = resident_mib() - rss_before;
  const auto& cfg = model->config();
  int64_t params = cfg.vocab_size * cfg.hidden_size * (cfg.tie_embeddings ? 1 : 2);
  params += cfg.num_layers * (cfg.hidden_size * cfg.head_dim * (2 * cfg.num_heads + 2 * cfg.num_kv_heads) +
                              3 * cfg.hidden_size * cfg.intermediate_size);

  torch::manual_seed(0);
  for (int64_t B : batches) {
    auto ids = torch::randint(3, cfg.vocab_size, {B, prompt}, torch::kInt64);
    std::vector<double> pre_t, dec_t;
    for (int64_t r = 0; r < repeats + 1; ++r) {  // one warm-up
      auto cache = model->new_cache(B, prompt + fresh);
      double a = now();
      auto logits = model->forward(cache, ids).logits;
      auto next = logits.argmax(-1);
      double b = now();
      for (int64_t s = 0; s < fresh; ++s) next = model->decode(cache, next).argmax(-1);
      (void)next.sum().item<int64_t>();
      double c = now();
      if (r == 0) continue;
      pre_t.push_back(b - a);
      dec_t.push_back(c - b);
    }
    std::printf("{\"kind\": \"run\", \"impl\": \"breadth\", \"dtype\": \"%s\", \"weights\": \"%s\", \"batch\": %lld, "
                "\"prompt\": %lld, \"new\": %lld, \"threads\": %lld, \"load_s\": %.2f, "
                "\"params\": %lld, \"model_resident_mib\": %.1f, \"prefill_tok_s\": %.1f, \"decode_tok_s\": %.2f}\n",
                dtype_s.c_str(), weights_s.c_str(), static_cast<long long>(B), static_cast<long long>(prompt),
                static_cast<long long>(fresh), static_cast<long long>(threads), load_s,
                static_cast<long long>(params), model_mib, B * prompt / median(pre_t), B * fresh / median(dec_t));
    std::fflush(stdout);
  }
  return 0;
}
