// The encoders' small pure functions on hand-worked cases: DeBERTa's log buckets, relative
// positions and disentangled bias, RoBERTa's position ids, pooling, pair truncation, templates.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "breadth/error.hpp"
#include "encoder/deberta.hpp"
#include "encoder/encoder_config.hpp"
#include "encoder/encoder_net.hpp"
#include "encoder/encoder_text.hpp"

using namespace breadth;
using namespace breadth::model;

namespace {
torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
}  // namespace

TEST_CASE("DeBERTa log buckets: identity near zero, logarithmic beyond", "[encoder][deberta]") {
  // bucket_size 8 (mid 4), max_position 64: |d| <= 4 unchanged; otherwise
  // sign(d) * (ceil(log(|d|/4) / log(63/4) * 3) + 4), worked by hand:
  //   5 -> ceil(0.243)+4 = 5; 10 -> ceil(0.997)+4 = 5; 20 -> ceil(1.752)+4 = 6;
  //   64 -> ceil(3.017)+4 = 8; 1000 -> ceil(6.009)+4 = 11.
  auto got = deberta_log_bucket_position(longs({0, 1, -3, 4, -4, 5, 10, 20, -20, 64, 1000}), 8, 64);
  CHECK(torch::equal(got, longs({0, 1, -3, 4, -4, 5, 5, 6, -6, 8, 11})));
}

TEST_CASE("DeBERTa relative positions are query minus key", "[encoder][deberta]") {
  auto r = deberta_relative_positions(3, 3, -1, -1, torch::kCPU);
  CHECK(torch::equal(r, torch::tensor({0, -1, -2, 1, 0, -1, 2, 1, 0}, torch::kInt64).view({3, 3})));
  // Bucketed: distances beyond 4 compress (8 buckets, 64 positions).
  auto b = deberta_relative_positions(1, 21, 8, 64, torch::kCPU);
  CHECK(b[0][20].item<int64_t>() == -6);
  CHECK(b[0][3].item<int64_t>() == -3);
}

TEST_CASE("disentangled bias gathers c2p at q-k+span and p2c at k-q+span", "[encoder][deberta]") {
  // One batch, one head, T = 2, D = 1, span = 2: relative embeddings r_0..r_3 (index = rel + span).
  auto q = torch::tensor({1.0f, 2.0f}).view({1, 1, 2, 1});
  auto k = torch::tensor({3.0f, 5.0f}).view({1, 1, 2, 1});
  auto pos = torch::tensor({10.0f, 20.0f, 30.0f, 40.0f}).view({1, 4, 1});  // r_i, one head
  auto rel = deberta_relative_positions(2, 2, -1, -1, torch::kCPU);
  auto one = torch::tensor(1.0f);
  // c2p[i][j] = q_i * r_{(i-j)+2}: [[1*30, 1*20], [2*40, 2*30]]
  auto c2p = deberta_disentangled_bias(q, k, pos, pos, rel, 2, one, true, false);
  CHECK(torch::allclose(c2p.view({2, 2}), torch::tensor({30.0f, 20.0f, 80.0f, 60.0f}).view({2, 2})));
  // p2c[i][j] = k_j * r_{-(j-i)+2} = k_j * r_{i-j+2}: [[3*30, 5*20], [3*40, 5*30]]
  auto p2c = deberta_disentangled_bias(q, k, pos, pos, rel, 2, one, false, true);
  CHECK(torch::allclose(p2c.view({2, 2}), torch::tensor({90.0f, 100.0f, 120.0f, 150.0f}).view({2, 2})));
  // Both, with a scale: the sum divided by it.
  auto both = deberta_disentangled_bias(q, k, pos, pos, rel, 2, torch::tensor(2.0f), true, true);
  CHECK(torch::allclose(both.view({2, 2}), torch::tensor({60.0f, 60.0f, 100.0f, 105.0f}).view({2, 2})));
  // Distances beyond the span clamp to its ends.
  auto far = deberta_relative_positions(1, 4, -1, -1, torch::kCPU);  // 0, -1, -2, -3
  auto q1 = torch::ones({1, 1, 1, 1});
  auto k4 = torch::ones({1, 1, 4, 1});
  auto c = deberta_disentangled_bias(q1, k4, pos, pos, far, 2, one, true, false);
  CHECK(torch::allclose(c.view({4}), torch::tensor({30.0f, 20.0f, 10.0f, 10.0f})));
}

TEST_CASE("RoBERTa positions start after the padding index and skip padding", "[encoder]") {
  auto m = torch::tensor({1, 1, 1, 0, 1, 0, 0, 0}, torch::kInt64).view({2, 4});
  CHECK(torch::equal(roberta_position_ids(m, 1), torch::tensor({2, 3, 4, 1, 2, 1, 1, 1}, torch::kInt64).view({2, 4})));
}

TEST_CASE("pooling over the attention mask", "[encoder]") {
  // Row 0: tokens (1,2), (3,4), padding (100,100); row 1: (5,-6) alone.
  auto h = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 100.0f, 100.0f, 5.0f, -6.0f, 7.0f, 7.0f, 7.0f, 7.0f}).view({2, 3, 2});
  auto m = torch::tensor({1, 1, 0, 1, 0, 0}, torch::kInt64).view({2, 3});
  CHECK(torch::allclose(pool(h, m, "mean"), torch::tensor({2.0f, 3.0f, 5.0f, -6.0f}).view({2, 2})));
  CHECK(torch::allclose(pool(h, m, "max"), torch::tensor({3.0f, 4.0f, 5.0f, -6.0f}).view({2, 2})));
  CHECK(torch::allclose(pool(h, m, "cls"), torch::tensor({1.0f, 2.0f, 5.0f, -6.0f}).view({2, 2})));
  const float r2 = std::sqrt(2.0f);
  CHECK(torch::allclose(pool(h, m, "mean_sqrt_len"), torch::tensor({4.0f / r2, 6.0f / r2, 5.0f, -6.0f}).view({2, 2})));
  // The last real token, whichever side the padding is on.
  CHECK(torch::allclose(pool(h, m, "lasttoken"), torch::tensor({3.0f, 4.0f, 5.0f, -6.0f}).view({2, 2})));
  auto left = torch::tensor({0, 1, 1, 0, 0, 1}, torch::kInt64).view({2, 3});
  CHECK(torch::allclose(pool(h, left, "lasttoken"), torch::tensor({100.0f, 100.0f, 7.0f, 7.0f}).view({2, 2})));
  CHECK_THROWS_AS(pool(h, m, "weird"), Unsupported);
}

TEST_CASE("longest-first truncation of a pair", "[encoder]") {
  auto run = [](size_t n1, size_t n2, int64_t budget) {
    std::vector<int32_t> a(n1, 7), b(n2, 8);
    truncate_longest_first(a, b, budget);
    return std::make_pair(a.size(), b.size());
  };
  CHECK(run(3, 4, 10) == std::make_pair<size_t, size_t>(3, 4));   // fits
  CHECK(run(10, 3, 8) == std::make_pair<size_t, size_t>(5, 3));   // only the longer side shrinks
  CHECK(run(3, 10, 8) == std::make_pair<size_t, size_t>(3, 5));
  CHECK(run(10, 9, 7) == std::make_pair<size_t, size_t>(4, 3));   // both to half; the odd token to the longer
  CHECK(run(9, 10, 7) == std::make_pair<size_t, size_t>(3, 4));
  CHECK(run(5, 5, 0) == std::make_pair<size_t, size_t>(0, 0));
}

TEST_CASE("segment templates frame singles and pairs", "[encoder]") {
  std::vector<int64_t> ids, types;
  std::vector<int32_t> a = {10, 11}, b = {20};
  bert_template(101, 102).assemble(a, &b, ids, types);
  CHECK(ids == std::vector<int64_t>{101, 10, 11, 102, 20, 102});
  CHECK(types == std::vector<int64_t>{0, 0, 0, 0, 1, 1});
  ids.clear();
  types.clear();
  auto r = roberta_template(0, 2);
  r.assemble(a, &b, ids, types);
  CHECK(ids == std::vector<int64_t>{0, 10, 11, 2, 2, 20, 2});
  CHECK(types == std::vector<int64_t>(7, 0));
  CHECK(r.added(true) == 4);
  CHECK(r.added(false) == 2);
  auto padded = pad_rows({{{1, 2, 3}, {0, 0, 1}}, {{4}, {0}}}, 9);
  CHECK(torch::equal(padded.ids, torch::tensor({1, 2, 3, 4, 9, 9}, torch::kInt64).view({2, 3})));
  CHECK(torch::equal(padded.mask, torch::tensor({1, 1, 1, 1, 0, 0}, torch::kInt64).view({2, 3})));
  CHECK(torch::equal(padded.type_ids, torch::tensor({0, 0, 1, 0, 0, 0}, torch::kInt64).view({2, 3})));
}

TEST_CASE("encoder configs: families, labels and rejected variants", "[encoder][config]") {
  nlohmann::json base = {{"vocab_size", 100}, {"hidden_size", 32}, {"num_hidden_layers", 2},
                         {"num_attention_heads", 4}, {"max_position_embeddings", 64}, {"intermediate_size", 48}};
  auto with = [&](nlohmann::json extra) {
    auto j = base;
    j.update(extra);
    return j;
  };
  auto a = parse_encoder_config(with({{"architectures", {"RobertaForSequenceClassification"}},
                                      {"pad_token_id", 1},
                                      {"id2label", {{"0", "CONTRADICTION"}, {"1", "NEUTRAL"}, {"2", "ENTAILMENT"}}}}),
                                "t");
  CHECK(a.family == EncoderFamily::kRoberta);
  CHECK(a.head == EncoderHead::kRobertaHead);
  CHECK(a.pub.labels == std::vector<std::string>{"CONTRADICTION", "NEUTRAL", "ENTAILMENT"});
  auto d = parse_encoder_config(with({{"architectures", {"DebertaV2Model"}}, {"relative_attention", true},
                                      {"pos_att_type", "p2c|c2p"}, {"position_buckets", 256}}),
                                "t");
  CHECK(d.c2p);
  CHECK(d.p2c);
  CHECK(d.att_span == 256);
  CHECK(d.max_relative_positions == 64);
  auto d2 = parse_encoder_config(with({{"model_type", "deberta-v2"}, {"relative_attention", true}}), "t");
  CHECK(d2.att_span == 64);
  CHECK_FALSE(d2.c2p);
  CHECK(parse_encoder_config(with({{"model_type", "bert"}}), "t").pub.architecture == "BertModel");

  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"LlamaForCausalLM"}}}), "t"), Unsupported);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"BertModel"}}, {"position_embedding_type", "relative_key"}}), "t"),
                  Unsupported);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"BertModel"}}, {"hidden_act", "mish"}}), "t"),
                  Unsupported);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"DebertaV2Model"}}, {"pos_att_type", "p2p"}}), "t"),
                  Unsupported);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"BertModel"}}, {"num_attention_heads", 5}}), "t"),
                  FormatError);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"BertModel"}}, {"vocab_size", -3}}), "t"), FormatError);
  auto no_vocab = with({{"architectures", {"BertModel"}}});
  no_vocab.erase("vocab_size");
  CHECK_THROWS_AS(parse_encoder_config(no_vocab, "t"), FormatError);
  CHECK_THROWS_AS(parse_encoder_config(nlohmann::json::array(), "t"), FormatError);
  CHECK_THROWS_AS(parse_encoder_config(with({{"architectures", {"BertForSequenceClassification"}},
                                             {"id2label", {{"0", "a"}, {"2", "c"}}}}),
                                       "t"),
                  FormatError);
}
