// Bad checkpoints and bad calls give breadth errors that name the problem, never a crash.
#include <fstream>

#include "breadth/encoder.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"
#include "encoder_test_util.hpp"

using namespace breadth;
using breadth::test::tiny_encoder;

namespace {

// A writable copy of a fixture checkpoint (replacing the previous run's).
std::string copy_of(const std::string& name, const std::string& tag) {
  const std::string dst =
      files::join(files::join(breadth::test::fixtures_dir(), "tiny_encoders_bad"), name + "_" + tag);
  REQUIRE(breadth::test::remove_tree(dst));
  files::make_dirs(files::parent(dst));
  files::copy_tree(tiny_encoder(name), dst);
  return dst;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

template <typename E>
void throws_mentioning(const std::function<void()>& fn, const std::string& fragment) {
  try {
    fn();
    FAIL("no exception; expected one mentioning '" << fragment << "'");
  } catch (const E& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("missing and malformed checkpoints", "[encoder][bad]") {
  CHECK_THROWS_AS(Encoder::load("/no/such/encoder"), IoError);
  CHECK_THROWS_AS(Encoder::load(tiny_encoder("bert_st") + "/config.json"), InvalidArgument);

  auto dir = copy_of("bert_st", "noconfig");
  files::remove_file(files::join(dir, "config.json"));
  throws_mentioning<IoError>([&] { Encoder::load(dir); }, "config.json");

  dir = copy_of("bert_st", "badjson");
  write(dir + "/config.json", "{\"architectures\": [\"BertModel\"], ");
  CHECK_THROWS_AS(Encoder::load(dir), FormatError);

  // A causal LM is an encoder only in a sentence-transformers directory (modules.json).
  dir = copy_of("bert_st", "decoder");
  files::remove_file(dir + "/modules.json");
  write(dir + "/config.json", R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10})");
  throws_mentioning<Unsupported>([&] { Encoder::load(dir); }, "LlamaForCausalLM");
  dir = copy_of("bert_st", "decoder_st");
  write(dir + "/config.json", R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10})");
  throws_mentioning<FormatError>([&] { Encoder::load(dir); }, "hidden_size");

  dir = copy_of("bert_st", "wrongtype");
  write(dir + "/config.json", R"({"architectures": ["BertModel"], "vocab_size": "many"})");
  CHECK_THROWS_AS(Encoder::load(dir), FormatError);

  // config.json says more layers than the weights hold.
  dir = copy_of("bert_st", "layers");
  auto cfg = breadth::test::read_json_file(dir + "/config.json");
  cfg["num_hidden_layers"] = 3;
  write(dir + "/config.json", cfg.dump());
  throws_mentioning<FormatError>([&] { Encoder::load(dir); }, "encoder.layer.2");

  // ... or a different hidden size.
  dir = copy_of("deberta_v3_cls", "hidden");
  cfg = breadth::test::read_json_file(dir + "/config.json");
  cfg["hidden_size"] = 64;
  cfg["pooler_hidden_size"] = 64;
  write(dir + "/config.json", cfg.dump());
  throws_mentioning<FormatError>([&] { Encoder::load(dir); }, "shape");

  // Truncated weights.
  dir = copy_of("roberta_nli", "truncated");
  files::resize_file(dir + "/model.safetensors", files::file_size(dir + "/model.safetensors") / 2);
  CHECK_THROWS_AS(Encoder::load(dir), FormatError);

  dir = copy_of("roberta_nli", "noweights");
  files::remove_file(dir + "/model.safetensors");
  CHECK_THROWS_AS(Encoder::load(dir), IoError);

  // A broken sentence-transformers pooling config.
  dir = copy_of("bert_st", "pooling");
  write(dir + "/1_Pooling/config.json", R"({"pooling_mode": "weird"})");
  CHECK_THROWS_AS(Encoder::load(dir), Unsupported);
  write(dir + "/1_Pooling/config.json", "[");
  CHECK_THROWS_AS(Encoder::load(dir), FormatError);

  // sentence-transformers Dense modules: an activation breadth cannot run, a width that does not
  // chain, pickle-only weights.
  dir = copy_of("qwen2_embedder_dense", "dense_act");
  cfg = breadth::test::read_json_file(dir + "/2_Dense/config.json");
  cfg["activation_function"] = "my_package.FancyActivation";
  write(dir + "/2_Dense/config.json", cfg.dump());
  throws_mentioning<Unsupported>([&] { Encoder::load(dir); }, "my_package.FancyActivation");
  dir = copy_of("qwen2_embedder_dense", "dense_width");
  cfg = breadth::test::read_json_file(dir + "/2_Dense/config.json");
  cfg["in_features"] = 31;
  write(dir + "/2_Dense/config.json", cfg.dump());
  throws_mentioning<FormatError>([&] { Encoder::load(dir); }, "in_features 31");
  dir = copy_of("qwen2_embedder_dense", "dense_pickle");
  files::remove_file(dir + "/2_Dense/model.safetensors");
  write(dir + "/2_Dense/pytorch_model.bin", "not really a pickle");
  throws_mentioning<Unsupported>([&] { Encoder::load(dir); }, "safe_serialization=True");
  // A decoder embedder has no classification head.
  {
    auto enc = Encoder::load(tiny_encoder("qwen2_embedder_dense"));
    CHECK_THROWS_AS(enc->classify({"a"}), InvalidArgument);
  }

  // DeBERTa v1's talking-head attention is refused by name.
  dir = copy_of("deberta_v1_mnli", "talking");
  cfg = breadth::test::read_json_file(dir + "/config.json");
  cfg["talking_head"] = true;
  write(dir + "/config.json", cfg.dump());
  throws_mentioning<Unsupported>([&] { Encoder::load(dir); }, "talking_head");

  // Pickle-only encoder weights: refused, with the conversion to safetensors spelled out.
  dir = copy_of("deberta_v1_mnli", "pickle");
  files::remove_file(dir + "/model.safetensors");
  write(dir + "/pytorch_model.bin", "not really a pickle");
  throws_mentioning<Unsupported>([&] { Encoder::load(dir); }, "safe_serialization=True");
}

TEST_CASE("a checkpoint without a tokenizer still runs on ids", "[encoder][bad]") {
  auto dir = copy_of("bert_st", "notok");
  files::remove_file(dir + "/tokenizer.json");
  auto enc = Encoder::load(dir);
  CHECK(enc->tokenizer() == nullptr);
  throws_mentioning<InvalidArgument>([&] { enc->embed({"text"}); }, "tokenizer");
  EncoderBatch b{torch::tensor({{5, 6, 7}}, torch::kInt64), torch::ones({1, 3}, torch::kInt64), {}};
  CHECK(enc->hidden_states(b).sizes() == torch::IntArrayRef({1, 3, 32}));
}

TEST_CASE("bad calls", "[encoder][bad]") {
  auto bert = Encoder::load(tiny_encoder("bert_st"));
  auto cls = Encoder::load(tiny_encoder("bert_cls_gelu_new"));
  const int64_t V = bert->config().vocab_size;

  EncoderOptions o;
  o.batch_size = 0;
  CHECK_THROWS_AS(Encoder::load(tiny_encoder("bert_st"), o), InvalidArgument);
  o = {};
  o.max_length = 100000;
  throws_mentioning<InvalidArgument>([&] { Encoder::load(tiny_encoder("bert_st"), o); }, "max_length");
  o = {};
  o.dtype = torch::kFloat16;
  CHECK_THROWS_AS(Encoder::load(tiny_encoder("bert_st"), o), InvalidArgument);

  // A sentence encoder has no classifier head.
  throws_mentioning<InvalidArgument>([&] { bert->classify_pairs({"a"}, {"b"}); }, "classification head");
  EncoderBatch ok{torch::tensor({{5, 6}}, torch::kInt64), torch::ones({1, 2}, torch::kInt64), {}};
  CHECK_THROWS_AS(bert->logits(ok), InvalidArgument);
  CHECK_THROWS_AS(cls->classify_pairs({"a", "b"}, {"c"}), InvalidArgument);

  // Ids outside the vocabulary, type ids outside the table, mismatched shapes, too long.
  CHECK_THROWS_AS(bert->hidden_states({torch::tensor(std::vector<int64_t>{5, V}).view({1, 2}), {}, {}}), InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({torch::tensor({{-1, 5}}, torch::kInt64), {}, {}}), InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({torch::tensor({{5, 6}}, torch::kInt64), {}, torch::tensor({{0, 2}}, torch::kInt64)}),
                  InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({torch::tensor({{5, 6}}, torch::kInt64), torch::ones({1, 3}, torch::kInt64), {}}),
                  InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({torch::full({1, 1000}, 5, torch::kInt64), {}, {}}), InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({torch::zeros({0, 3}, torch::kInt64), {}, {}}), InvalidArgument);
  CHECK_THROWS_AS(bert->hidden_states({}), InvalidArgument);

  // Odd text never crashes: empty strings, invalid UTF-8, very long input (truncated).
  std::string longtext;
  for (int i = 0; i < 2000; ++i) longtext += "river dog ";
  auto e = bert->embed({"", std::string("\xff\xfe\x80 bad utf8", 12), longtext});
  CHECK(e.sizes() == torch::IntArrayRef({3, 32}));
  CHECK(torch::isfinite(e).all().item<bool>());
  auto p = cls->classify_pairs({"", longtext}, {longtext, ""});
  CHECK(torch::isfinite(p).all().item<bool>());

  CHECK_THROWS_AS(make_text_embedder(nullptr), InvalidArgument);
  CHECK_THROWS_AS(make_pair_classifier(nullptr), InvalidArgument);
  CHECK_THROWS_AS(make_pair_classifier(cls, 3), InvalidArgument);
  CHECK_THROWS_AS(make_nli_classifier(nullptr), InvalidArgument);
}
