// Shared models under concurrency: a causal LM pair, their tokenizer and a sentence encoder are loaded
// once and used from 8 threads at once -- generation, BACO, tokenization, embedding and DivCov -- through
// the C++ API and through the C API. Every call's result must equal the same call made alone, one at a
// time, before any thread started (the reference). The threads run for a bounded time
// (BREADTH_STRESS_SECONDS, default 10) and each completes at least one full round of every job, so
// every kind of call overlaps every other however slow the machine (or ThreadSanitizer) is. Nothing
// here measures time: the bound only sizes the run.
//
// Inputs: the tiny checkpoints of fixture `bindings` and all-MiniLM-L6-v2 from the setup cache.
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "breadth.h"
#include "breadth/baco.hpp"
#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"
// Last: libtorch's logging header defines its own CHECK, which Catch's must override.
#include <catch2/catch.hpp>

#include "common/require_input.hpp"

using namespace breadth;

namespace {

constexpr int kThreads = 8;

const std::vector<std::string> kPrompts = {"Tell me a story about a cat.", "Name a color, please!",
                                           "What is the capital of France?", "Write a haiku about rain."};
const std::vector<std::vector<std::string>> kAnswerSets = {
    {"A cat sat on the mat.", "A kitten sat on the rug.", "Stock prices fell sharply.", "The cat sat on a mat."},
    {"red", "Red", "blue", "green", "a shade of red"},
    {"Paris", "paris.", "Lyon", "The capital is Paris", "Marseille"}};

double stress_seconds() {
  const char* v = std::getenv("BREADTH_STRESS_SECONDS");
  return v && *v ? std::atof(v) : 10.0;
}

std::string fx(const std::string& name) { return breadth::test::fixtures_dir() + "/bindings/" + name; }
std::string minilm() { return breadth::test::models_dir() + "/all-minilm-l6-v2"; }

// A job computes one call's result as a string (ids, texts and floats printed at full precision).
// Results of the same call must be byte-identical: the same code on the same inputs with one intra-op
// thread per caller (OMP_NUM_THREADS=1, see CMakeLists.txt) computes the same floats whether or not
// other threads run beside it.
using Job = std::function<std::string()>;

std::string floats(const float* p, size_t n) {
  std::ostringstream s;
  s.precision(9);
  for (size_t i = 0; i < n; ++i) s << p[i] << ' ';
  return s.str();
}

struct Outcome {
  std::atomic<long> calls{0};
  std::atomic<long> mismatches{0};
  std::atomic<int> short_threads{0};
  std::mutex mu;
  std::string first_failure;
};

// Reference results one at a time, then kThreads threads running the jobs round-robin (each starting
// at a different job) until the deadline, each at least one whole round.
void stress(const std::vector<std::pair<std::string, Job>>& jobs, Outcome& out) {
  std::vector<std::string> ref;
  for (const auto& j : jobs) ref.push_back(j.second());
  for (size_t i = 0; i < ref.size(); ++i) {
    INFO(jobs[i].first << " alone: " << ref[i].substr(0, 300));
    CHECK(!ref[i].empty());
    CHECK(ref[i].find("failed") == std::string::npos);
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(stress_seconds());
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      size_t done = 0;
      for (size_t k = static_cast<size_t>(t);; ++k) {
        const size_t j = k % jobs.size();
        std::string got;
        try {
          got = jobs[j].second();
        } catch (const std::exception& e) {
          got = std::string("exception: ") + e.what();
        }
        out.calls.fetch_add(1);
        if (got != ref[j]) {
          out.mismatches.fetch_add(1);
          std::lock_guard<std::mutex> lock(out.mu);
          if (out.first_failure.empty())
            out.first_failure = "thread " + std::to_string(t) + ", " + jobs[j].first + ":\n  alone:      " +
                                ref[j].substr(0, 300) + "\n  concurrent: " + got.substr(0, 300);
        }
        if (++done >= jobs.size() && std::chrono::steady_clock::now() >= deadline) break;
      }
      if (done < jobs.size()) out.short_threads.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
}

void report(const Outcome& out, size_t num_jobs) {
  std::printf("%ld calls of %zu jobs from %d threads, %ld differences\n", out.calls.load(), num_jobs, kThreads,
              out.mismatches.load());
  INFO("first difference: " << out.first_failure);
  CHECK(out.mismatches.load() == 0);
  CHECK(out.short_threads.load() == 0);
  CHECK(out.calls.load() >= static_cast<long>(kThreads * num_jobs));
}

}  // namespace

TEST_CASE("C++ API: one model, tokenizer and encoder shared by 8 threads", "[concurrency]") {
  if (!BREADTH_REQUIRE_INPUT(minilm() + "/model.safetensors")) return;
  std::shared_ptr<const CausalLM> base = CausalLM::load(fx("base"));
  std::shared_ptr<const CausalLM> aligned = CausalLM::load(fx("aligned"));
  std::shared_ptr<const Tokenizer> tok = aligned->tokenizer();
  const BacoDecoder baco(base, aligned);
  std::shared_ptr<const Encoder> encoder = Encoder::load(minilm());
  std::shared_ptr<const TextEmbedder> embedder = make_text_embedder(encoder);
  const auto by_embedding = embedding_equivalence(embedder, 0.8);
  const auto quality = constant_quality();

  std::vector<std::pair<std::string, Job>> jobs;
  for (size_t p = 0; p < kPrompts.size(); ++p) {
    const std::string prompt = kPrompts[p];
    jobs.emplace_back("generate " + prompt, [&, prompt, p] {
      GenerateOptions o;
      o.num_samples = 3;
      o.max_new_tokens = 8;
      o.seed = 100 + p;
      std::string s;
      for (const auto& x : generate(*aligned, {prompt}, o).samples) {
        for (int32_t id : x.tokens) s += std::to_string(id) + ",";
        s += "|" + x.text + "|" + floats(x.logprobs.data(), x.logprobs.size()) + "\n";
      }
      return s;
    });
    jobs.emplace_back("baco " + prompt, [&, prompt, p] {
      BacoOptions o;
      o.num_samples = 3;
      o.max_new_tokens = 8;
      o.seed = 200 + p;
      std::string s;
      for (const auto& x : baco.generate({prompt}, p % 2 ? "rand:0.5" : "p-punc:0.3", o).samples) {
        for (const auto& r : x.tokens)
          s += std::to_string(r.id) + (r.source == TokenSource::kBase ? "b," : "a,");
        s += "|" + x.text + "\n";
      }
      return s;
    });
    jobs.emplace_back("tokenize " + prompt, [&, prompt] {
      std::string s;
      const auto ids = tok->encode(prompt, true);
      for (int32_t id : ids) s += std::to_string(id) + ",";
      return s + "|" + tok->decode(ids, false) + "|" + std::to_string(tok->token_classes().is_punctuation.size());
    });
  }
  for (size_t a = 0; a < kAnswerSets.size(); ++a) {
    const auto answers = kAnswerSets[a];
    jobs.emplace_back("embed set " + std::to_string(a), [&, answers] {
      const torch::Tensor e = encoder->embed(answers).contiguous();
      return floats(e.data_ptr<float>(), static_cast<size_t>(e.numel()));
    });
    jobs.emplace_back("divcov set " + std::to_string(a), [&, answers] {
      const DivCovResult r = evaluate_divcov("q", answers, *by_embedding, *quality);
      std::ostringstream s;
      s.precision(17);
      for (int c : r.partition) s << c << ",";
      s << "|" << r.num_unique << "|" << r.div_cov << "|" << r.utility;
      return s.str();
    });
  }
  Outcome out;
  stress(jobs, out);
  report(out, jobs.size());
}

namespace {

struct CHandles {
  breadth_model* base = nullptr;
  breadth_model* aligned = nullptr;
  breadth_baco* baco = nullptr;
  breadth_encoder* encoder = nullptr;
  ~CHandles() {
    breadth_baco_free(baco);
    breadth_model_free(base);
    breadth_model_free(aligned);
    breadth_encoder_free(encoder);
  }
};

std::string c_error(const char* what, breadth_status st) {
  return std::string(what) + " failed: " + breadth_status_name(st) + ": " + breadth_last_error();
}

}  // namespace

TEST_CASE("C API: one model, tokenizer and encoder shared by 8 threads", "[concurrency][capi]") {
  if (!BREADTH_REQUIRE_INPUT(minilm() + "/model.safetensors")) return;
  CHandles h;
  REQUIRE(breadth_model_load(fx("base").c_str(), nullptr, &h.base) == BREADTH_OK);
  REQUIRE(breadth_model_load(fx("aligned").c_str(), nullptr, &h.aligned) == BREADTH_OK);
  REQUIRE(breadth_baco_create(h.base, h.aligned, &h.baco) == BREADTH_OK);
  REQUIRE(breadth_encoder_load(minilm().c_str(), &h.encoder) == BREADTH_OK);

  std::vector<std::pair<std::string, Job>> jobs;
  for (size_t p = 0; p < kPrompts.size(); ++p) {
    const std::string prompt = kPrompts[p];
    jobs.emplace_back("breadth_generate " + prompt, [&, prompt, p]() -> std::string {
      breadth_generate_options o;
      breadth_generate_options_init(&o, BREADTH_GENERATE_OPTIONS_VERSION);
      o.num_samples = 3;
      o.max_new_tokens = 8;
      o.seed = 100 + p;
      const char* prompts[] = {prompt.c_str()};
      breadth_generation* g = nullptr;
      if (breadth_status st = breadth_generate(h.aligned, prompts, 1, &o, &g)) return c_error("generate", st);
      size_t n = 0;
      breadth_generation_count(g, &n);
      std::string s;
      for (size_t i = 0; i < n; ++i) {
        breadth_sample x = BREADTH_SAMPLE_INIT;
        breadth_generation_get(g, i, &x);
        for (size_t k = 0; k < x.num_tokens; ++k) s += std::to_string(x.tokens[k]) + ",";
        s += "|" + std::string(x.text, x.text_len) + "|" + floats(x.logprobs, x.num_tokens) + "\n";
      }
      breadth_generation_free(g);
      return s;
    });
    jobs.emplace_back("breadth_baco_generate_spec " + prompt, [&, prompt, p]() -> std::string {
      breadth_baco_options o;
      breadth_baco_options_init(&o, BREADTH_BACO_OPTIONS_VERSION);
      o.num_samples = 3;
      o.max_new_tokens = 8;
      o.seed = 200 + p;
      const char* prompts[] = {prompt.c_str()};
      breadth_baco_result* r = nullptr;
      if (breadth_status st = breadth_baco_generate_spec(h.baco, prompts, 1, p % 2 ? "rand:0.5" : "p-punc:0.3", &o, &r))
        return c_error("baco", st);
      size_t n = 0;
      breadth_baco_result_count(r, &n);
      std::string s;
      for (size_t i = 0; i < n; ++i) {
        breadth_baco_sample x = BREADTH_BACO_SAMPLE_INIT;
        breadth_baco_result_get(r, i, &x);
        for (size_t k = 0; k < x.num_tokens; ++k) {
          breadth_token_record t = BREADTH_TOKEN_RECORD_INIT;
          breadth_baco_result_token(r, i, k, &t);
          s += std::to_string(t.id) + (t.source == BREADTH_SOURCE_BASE ? "b," : "a,");
        }
        s += "|" + std::string(x.text, x.text_len) + "\n";
      }
      breadth_baco_result_free(r);
      return s;
    });
    jobs.emplace_back("breadth_tokenize " + prompt, [&, prompt]() -> std::string {
      breadth_tokens t{};
      if (breadth_status st = breadth_tokenize(h.aligned, prompt.c_str(), 1, 1, &t)) return c_error("tokenize", st);
      std::string s;
      for (size_t k = 0; k < t.count; ++k) s += std::to_string(t.ids[k]) + ",";
      char* text = nullptr;
      if (breadth_status st = breadth_detokenize(h.aligned, t.ids, t.count, 0, &text)) return c_error("detokenize", st);
      s += "|" + std::string(text);
      breadth_string_free(text);
      breadth_tokens_free(&t);
      return s;
    });
    // The calling thread's last error is its own: a failing call's message names this thread's input.
    jobs.emplace_back("breadth_last_error " + std::to_string(p), [p]() -> std::string {
      const std::string spec = "unknownrule" + std::to_string(p);
      breadth_rule* rule = nullptr;
      const breadth_status st = breadth_rule_parse(spec.c_str(), &rule);
      const std::string msg = breadth_last_error();
      return std::string(breadth_status_name(st)) + (msg.find(spec) != std::string::npos ? " names it" : " " + msg) +
             (rule == nullptr ? "" : " handle set");
    });
  }
  for (size_t a = 0; a < kAnswerSets.size(); ++a) {
    std::vector<const char*> answers;
    for (const auto& s : kAnswerSets[a]) answers.push_back(s.c_str());
    jobs.emplace_back("breadth_encoder_embed set " + std::to_string(a), [&, answers]() -> std::string {
      breadth_floats f{};
      if (breadth_status st = breadth_encoder_embed(h.encoder, answers.data(), answers.size(), &f))
        return c_error("embed", st);
      std::string s = floats(f.data, f.rows * f.cols);
      breadth_floats_free(&f);
      return s;
    });
    jobs.emplace_back("breadth_divcov_evaluate set " + std::to_string(a), [answers]() -> std::string {
      breadth_divcov_options o;
      breadth_divcov_options_init(&o, BREADTH_DIVCOV_OPTIONS_VERSION);
      o.equivalence = "rouge1";
      breadth_divcov* d = nullptr;
      if (breadth_status st = breadth_divcov_evaluate("q", answers.data(), answers.size(), &o, &d))
        return c_error("divcov", st);
      breadth_divcov_figures fig = BREADTH_DIVCOV_FIGURES_INIT;
      breadth_divcov_get(d, &fig);
      std::ostringstream s;
      s.precision(17);
      for (size_t i = 0; i < fig.count; ++i) s << fig.partition[i] << ",";
      s << "|" << fig.num_unique << "|" << fig.div_cov << "|" << fig.utility;
      breadth_divcov_free(d);
      return s.str();
    });
  }
  Outcome out;
  stress(jobs, out);
  report(out, jobs.size());
}
