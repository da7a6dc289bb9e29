// Broken checkpoints and bad calls give clear breadth errors (naming the file/tensor/argument),
// never a crash. Checkpoints are written here, in a temporary directory, with io::write_safetensors.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"
#include "io/safetensors.hpp"

using namespace breadth;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kV = 32, kH = 16, kI = 24, kLayers = 2, kHeads = 2, kKv = 1, kD = 8;

std::string config_json(const std::string& arch = "LlamaForCausalLM", int64_t hidden = kH,
                        const std::string& extra = "") {
  return "{\"architectures\": [\"" + arch + "\"], \"model_type\": \"llama\", \"vocab_size\": " +
         std::to_string(kV) + ", \"hidden_size\": " + std::to_string(hidden) +
         ", \"intermediate_size\": " + std::to_string(kI) +
         ", \"num_hidden_layers\": " + std::to_string(kLayers) +
         ", \"num_attention_heads\": " + std::to_string(kHeads) +
         ", \"num_key_value_heads\": " + std::to_string(kKv) + ", \"rms_norm_eps\": 1e-5" + extra + "}";
}

std::map<std::string, torch::Tensor> tiny_weights() {
  torch::manual_seed(7);
  std::map<std::string, torch::Tensor> w;
  w["model.embed_tokens.weight"] = torch::randn({kV, kH});
  w["model.norm.weight"] = torch::ones({kH});
  w["lm_head.weight"] = torch::randn({kV, kH}) * 0.3;
  for (int l = 0; l < kLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    w[p + "input_layernorm.weight"] = torch::ones({kH});
    w[p + "post_attention_layernorm.weight"] = torch::ones({kH});
    w[p + "self_attn.q_proj.weight"] = torch::randn({kHeads * kD, kH}) * 0.3;
    w[p + "self_attn.k_proj.weight"] = torch::randn({kKv * kD, kH}) * 0.3;
    w[p + "self_attn.v_proj.weight"] = torch::randn({kKv * kD, kH}) * 0.3;
    w[p + "self_attn.o_proj.weight"] = torch::randn({kH, kHeads * kD}) * 0.3;
    w[p + "mlp.gate_proj.weight"] = torch::randn({kI, kH}) * 0.3;
    w[p + "mlp.up_proj.weight"] = torch::randn({kI, kH}) * 0.3;
    w[p + "mlp.down_proj.weight"] = torch::randn({kH, kI}) * 0.3;
  }
  return w;
}

void write_weights(const std::string& path, const std::map<std::string, torch::Tensor>& w) {
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorToWrite> out;
  for (const auto& [name, t] : w) {
    keep.push_back(t.contiguous().to(torch::kFloat32));
    out.push_back({name, io::DType::F32, t.sizes().vec(), keep.back().data_ptr(),
                   static_cast<uint64_t>(keep.back().nbytes())});
  }
  io::write_safetensors(path, out);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh directory per test holding a loadable tiny Llama (core/files.hpp helpers rather than
// std::filesystem: see breadth::test::remove_tree).
struct TinyCheckpoint {
  std::string dir;
  explicit TinyCheckpoint(const std::string& tag) {
    std::string tmpl = "/tmp/breadth_bad_input_" + tag + "_XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    write_text(file("config.json"), config_json());
    write_weights(file("model.safetensors"), tiny_weights());
  }
  ~TinyCheckpoint() { breadth::test::remove_tree(dir); }
  std::string path() const { return dir; }
  std::string file(const std::string& name) const { return dir + "/" + name; }
};

template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("wrong exception type: " << e.what());
  }
  FAIL("no exception thrown");
  return {};
}

}  // namespace

TEST_CASE("the tiny checkpoint itself loads and runs", "[model][bad_input]") {
  TinyCheckpoint ck("ok");
  auto m = CausalLM::load(ck.path());
  KvCache c;
  auto logits = m->prefill(c, {{1, 2, 3}});
  CHECK(logits.sizes() == torch::IntArrayRef({1, kV}));
  CHECK(torch::isfinite(logits).all().item<bool>());
}

TEST_CASE("missing paths and files", "[model][bad_input]") {
  CHECK_THROWS_AS(CausalLM::load("/nonexistent/breadth/model"), IoError);
  CHECK_THAT(message_of<IoError>([] { CausalLM::load("/nonexistent/breadth/model"); }),
             Contains("/nonexistent/breadth/model"));

  TinyCheckpoint ck("nocfg");
  std::remove(ck.file("config.json").c_str());
  CHECK_THAT(message_of<IoError>([&] { CausalLM::load(ck.path()); }), Contains("config.json"));

  TinyCheckpoint ck2("noweights");
  std::remove(ck2.file("model.safetensors").c_str());
  CHECK_THAT(message_of<IoError>([&] { CausalLM::load(ck2.path()); }), Contains("model.safetensors"));

  // Pickle weights can run code when loaded: refused, with the conversion to safetensors spelled out.
  write_text(ck2.file("pytorch_model.bin"), "not really a pickle");
  auto pickle_msg = message_of<Unsupported>([&] { CausalLM::load(ck2.path()); });
  CHECK_THAT(pickle_msg, Contains("pytorch_model.bin"));
  CHECK_THAT(pickle_msg, Contains("save_pretrained"));
  CHECK_THAT(pickle_msg, Contains("safe_serialization=True"));
  std::remove(ck2.file("pytorch_model.bin").c_str());
  write_text(ck2.file("pytorch_model.bin.index.json"), "{}");
  CHECK_THAT(message_of<Unsupported>([&] { CausalLM::load(ck2.path()); }), Contains("safetensors"));

  // A plain file that is neither a directory nor GGUF.
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck2.file("config.json")); }),
             Contains("GGUF"));
}

TEST_CASE("unknown architectures are named and the supported ones listed", "[model][bad_input]") {
  TinyCheckpoint ck("arch");
  write_text(ck.file("config.json"), config_json("GPTNeoXForCausalLM"));
  auto msg = message_of<Unsupported>([&] { CausalLM::load(ck.path()); });
  CHECK_THAT(msg, Contains("GPTNeoXForCausalLM"));
  CHECK_THAT(msg, Contains("LlamaForCausalLM"));
  CHECK_THAT(msg, Contains("Qwen3ForCausalLM"));
}

TEST_CASE("corrupt config.json", "[model][bad_input]") {
  TinyCheckpoint ck("cfg");
  write_text(ck.file("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], ");
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("config.json"));

  write_text(ck.file("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 32}");
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("hidden_size"));

  write_text(ck.file("config.json"), config_json("LlamaForCausalLM", kH, ", \"hidden_act\": 7"));
  CHECK_THROWS_AS(CausalLM::load(ck.path()), FormatError);

  // An unknown rope type is named (never a silently different rotation).
  write_text(ck.file("config.json"),
             config_json("LlamaForCausalLM", kH, ", \"rope_scaling\": {\"rope_type\": \"su\", \"factor\": 4}"));
  auto rope_msg = message_of<Unsupported>([&] { CausalLM::load(ck.path()); });
  CHECK_THAT(rope_msg, Contains("'su'"));
  CHECK_THAT(rope_msg, Contains("yarn"));
  write_text(ck.file("config.json"),
             config_json("LlamaForCausalLM", kH, ", \"rope_parameters\": {\"rope_type\": \"mrope\"}"));
  CHECK_THAT(message_of<Unsupported>([&] { CausalLM::load(ck.path()); }), Contains("'mrope'"));
  // Partial rotary is Phi-3's; elsewhere transformers would not rotate that way either.
  write_text(ck.file("config.json"),
             config_json("LlamaForCausalLM", kH, ", \"partial_rotary_factor\": 0.5"));
  CHECK_THAT(message_of<Unsupported>([&] { CausalLM::load(ck.path()); }), Contains("partial_rotary_factor"));
  // longrope needs one factor per frequency.
  write_text(ck.file("config.json"),
             config_json("Phi3ForCausalLM", kH, ", \"rope_scaling\": {\"type\": \"longrope\", "
                                                "\"long_factor\": [1, 2], \"short_factor\": [1, 2]}"));
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("long_factor"));
  // Gemma3ForConditionalGeneration reads its text tower from text_config.
  write_text(ck.file("config.json"), config_json("Gemma3ForConditionalGeneration"));
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("text_config"));

  write_text(ck.file("config.json"), config_json("LlamaForCausalLM", kH, ", \"num_key_value_heads\": 3"));
  CHECK_THROWS_AS(CausalLM::load(ck.path()), Error);  // duplicate key is a JSON error or a size error
}

TEST_CASE("truncated and corrupt safetensors", "[model][bad_input]") {
  TinyCheckpoint ck("trunc");
  const auto file = ck.file("model.safetensors");
  files::resize_file(file, files::file_size(file) / 2);
  auto msg = message_of<FormatError>([&] { CausalLM::load(ck.path()); });
  CHECK_THAT(msg, Contains("model.safetensors"));

  write_text(file, std::string("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}", 24));
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("model.safetensors"));

  write_text(file, "abc");
  CHECK_THROWS_AS(CausalLM::load(ck.path()), FormatError);
}

TEST_CASE("a missing tensor is named", "[model][bad_input]") {
  TinyCheckpoint ck("missing");
  auto w = tiny_weights();
  w.erase("model.layers.1.mlp.up_proj.weight");
  write_weights(ck.file("model.safetensors"), w);
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }),
             Contains("model.layers.1.mlp.up_proj.weight"));

  // An untied model without lm_head.
  w = tiny_weights();
  w.erase("lm_head.weight");
  write_weights(ck.file("model.safetensors"), w);
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("lm_head.weight"));
}

TEST_CASE("config and tensor shapes that disagree", "[model][bad_input]") {
  TinyCheckpoint ck("shape");
  write_text(ck.file("config.json"), config_json("LlamaForCausalLM", 2 * kH));
  auto msg = message_of<FormatError>([&] { CausalLM::load(ck.path()); });
  CHECK_THAT(msg, Contains("model.embed_tokens.weight"));
  CHECK_THAT(msg, Contains("[32, 16]"));  // what the file has
  CHECK_THAT(msg, Contains("[32, 32]"));  // what the config implies

  write_text(ck.file("config.json"), config_json());
  auto w = tiny_weights();
  w["model.layers.0.self_attn.k_proj.weight"] = torch::randn({kD * 2, kH});
  write_weights(ck.file("model.safetensors"), w);
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }),
             Contains("model.layers.0.self_attn.k_proj.weight"));
}

TEST_CASE("broken shard indexes", "[model][bad_input]") {
  TinyCheckpoint ck("shards");
  REQUIRE(std::rename(ck.file("model.safetensors").c_str(), ck.file("part-1.safetensors").c_str()) == 0);
  std::string map = "{\"weight_map\": {";
  bool first = true;
  for (const auto& [name, t] : tiny_weights()) {
    map += std::string(first ? "" : ",") + "\"" + name + "\": \"part-1.safetensors\"";
    first = false;
  }
  write_text(ck.file("model.safetensors.index.json"), map + "}}");
  CHECK_NOTHROW(CausalLM::load(ck.path()));

  write_text(ck.file("model.safetensors.index.json"),
             map + ", \"extra.weight\": \"part-1.safetensors\"}}");
  CHECK_THAT(message_of<FormatError>([&] { CausalLM::load(ck.path()); }), Contains("extra.weight"));

  write_text(ck.file("model.safetensors.index.json"),
             "{\"weight_map\": {\"model.norm.weight\": \"part-2.safetensors\"}}");
  CHECK_THAT(message_of<IoError>([&] { CausalLM::load(ck.path()); }), Contains("part-2.safetensors"));

  write_text(ck.file("model.safetensors.index.json"),
             "{\"weight_map\": {\"model.norm.weight\": \"../../etc/passwd\"}}");
  CHECK_THROWS_AS(CausalLM::load(ck.path()), FormatError);
}

TEST_CASE("GGUF files breadth cannot run", "[model][bad_input]") {
  TinyCheckpoint ck("gguf");
  // A minimal valid GGUF v3: no tensors, one metadata entry general.architecture = "gpt2".
  std::string g = "GGUF";
  auto u32 = [&](uint32_t v) { g.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { g.append(reinterpret_cast<const char*>(&v), 8); };
  auto str = [&](const std::string& s) { u64(s.size()); g += s; };
  u32(3);
  u64(0);
  u64(1);
  str("general.architecture");
  u32(8);
  str("gpt2");
  write_text(ck.file("m.gguf"), g);
  auto msg = message_of<Unsupported>([&] { CausalLM::load(ck.file("m.gguf")); });
  CHECK_THAT(msg, Contains("gpt2"));
  CHECK_THAT(msg, Contains("llama"));

  write_text(ck.file("t.gguf"), g.substr(0, 20));
  CHECK_THROWS_AS(CausalLM::load(ck.file("t.gguf")), FormatError);
}

TEST_CASE("options that cannot be honoured", "[model][bad_input]") {
  TinyCheckpoint ck("opts");
  ModelOptions o;
  o.dtype = torch::kFloat16;
  CHECK_THAT(message_of<InvalidArgument>([&] { CausalLM::load(ck.path(), o); }), Contains("dtype"));
  if (!torch::cuda::is_available()) {
    ModelOptions c;
    c.device = torch::Device(torch::kCUDA, 0);
    CHECK_THAT(message_of<InvalidArgument>([&] { CausalLM::load(ck.path(), c); }), Contains("CUDA"));
  }
}

TEST_CASE("bad forward() calls", "[model][bad_input]") {
  TinyCheckpoint ck("fwd");
  auto m = CausalLM::load(ck.path());
  KvCache c;
  CHECK_THAT(message_of<InvalidArgument>([&] { m->forward(c, torch::tensor({{int64_t{1}, kV}})); }),
             Contains("vocabulary"));
  CHECK_THROWS_AS(m->forward(c, torch::tensor({{-1, 2}})), InvalidArgument);
  CHECK_THROWS_AS(m->forward(c, torch::tensor({1, 2})), InvalidArgument);          // 1-D
  CHECK_THROWS_AS(m->forward(c, torch::ones({1, 2}, torch::kFloat32)), InvalidArgument);
  CHECK_THROWS_AS(m->forward(c, torch::tensor({{1, 2}}), torch::ones({1, 3}, torch::kBool)),
                  InvalidArgument);
  CHECK(c.empty());  // nothing above touched the cache

  m->prefill(c, {{1, 2}, {3}});
  CHECK_THAT(message_of<InvalidArgument>([&] { m->decode(c, torch::tensor({1, 2, 3})); }),
             Contains("rows"));
  CHECK(c.columns() == 2);  // the failed call left the cache as it was
  CHECK_THROWS_AS(c.select(torch::tensor({0, 2})), InvalidArgument);
  CHECK_THROWS_AS(c.select(torch::tensor({-1})), InvalidArgument);
  CHECK_THROWS_AS(KvCache().select(torch::tensor({0})), InvalidArgument);
  CHECK_THROWS_AS(m->prefill(c, {}), InvalidArgument);
  CHECK_THROWS_AS(m->prefill(c, {{1}, {}}), InvalidArgument);
  CHECK_THAT(message_of<InvalidArgument>([&] { m->score({{1, 2}}); }), Contains("classifier"));

  // A cache made by a different model is refused.
  ModelOptions bf;
  bf.dtype = torch::kBFloat16;
  auto m16 = CausalLM::load(ck.path(), bf);
  CHECK_THROWS_AS(m16->decode(c, torch::tensor({1, 2})), InvalidArgument);
}

TEST_CASE("NaN weights surface as NumericError when asked", "[model][bad_input]") {
  TinyCheckpoint ck("nan");
  auto w = tiny_weights();
  w["model.layers.0.mlp.down_proj.weight"][0][0] = std::numeric_limits<float>::quiet_NaN();
  write_weights(ck.file("model.safetensors"), w);
  auto m = CausalLM::load(ck.path());
  KvCache c;
  ForwardOptions o;
  o.check_finite = true;
  CHECK_THAT(message_of<NumericError>([&] { m->forward(c, torch::tensor({{1, 2}}), {}, o); }),
             Contains("NaN"));
  CHECK_THROWS_AS(check_finite(torch::tensor({1.0, std::numeric_limits<double>::infinity()}), "x"), NumericError);
  CHECK_NOTHROW(check_finite(torch::tensor({1.0, 2.0}), "x"));
}

TEST_CASE("dtype and device names: the library parses them for every face") {
  CHECK(parse_dtype("float32") == torch::kFloat32);
  CHECK(parse_dtype("float") == torch::kFloat32);
  CHECK(parse_dtype("bfloat16") == torch::kBFloat16);
  CHECK(parse_dtype("half") == torch::kFloat16);
  CHECK(dtype_name(torch::kBFloat16) == "bfloat16");
  CHECK(dtype_name(parse_dtype("float16")) == "float16");
  CHECK_THAT(message_of<InvalidArgument>([] { parse_dtype("int8", "--dtype"); }),
             Contains("--dtype must be float32, bfloat16 or float16, got 'int8'"));
  CHECK(parse_device("cpu") == torch::Device(torch::kCPU));
  CHECK(parse_device("cuda:1") == torch::Device(torch::kCUDA, 1));
  for (const char* bad : {"", "tpu", "cuda:", "cuda:x", "cuda:-1", "CPU", "cuda:1:2"}) {
    INFO(bad);
    CHECK_THAT(message_of<InvalidArgument>([&] { parse_device(bad, "--device"); }), Contains("--device must be"));
  }
}
