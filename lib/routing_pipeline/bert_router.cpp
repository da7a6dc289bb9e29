// The fine-tuned BERT router (router paper §4.2): an encoder's mean-pooled last hidden states and a
// linear head over the pool, trained end to end with AdamW on query texts (docs/routing.md).
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "breadth/router_pipeline.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "io/safetensors.hpp"
#include "routing/internal.hpp"

namespace breadth {

namespace {

// Tokenizer files copied beside the fine-tuned weights (whichever the base checkpoint has).
const char* const kTokenizerFiles[] = {"tokenizer.json",  "tokenizer_config.json", "special_tokens_map.json",
                                       "vocab.txt",       "vocab.json",            "merges.txt",
                                       "tokenizer.model", "sentencepiece.bpe.model", "added_tokens.json"};

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

torch::Tensor mean_pool(const torch::Tensor& hidden, const torch::Tensor& mask) {
  auto m = mask.to(hidden.device(), torch::kFloat32).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);
}

class BertRouter final : public Router {
 public:
  BertRouter(RouterConfig config, std::shared_ptr<const Encoder> encoder, std::shared_ptr<TrainableEncoder> net,
             torch::Tensor w, torch::Tensor b, std::string source_dir)
      : Router(std::move(config)),
        encoder_(std::move(encoder)),
        net_(std::move(net)),
        w_(std::move(w)),
        b_(std::move(b)),
        source_(std::move(source_dir)) {}

  torch::Tensor scores(const Features&) const override {
    fail("a bert router reads query texts, not features: call scores_texts / rank_texts / route_text");
  }

  torch::Tensor scores_texts(const std::vector<std::string>& queries) const override {
    const int64_t M = static_cast<int64_t>(pool().size());
    auto out = torch::empty({static_cast<int64_t>(queries.size()), M}, torch::kFloat64);
    torch::NoGradGuard no_grad;
    const size_t bs = 32;
    for (size_t start = 0; start < queries.size(); start += bs) {
      const size_t end = std::min(queries.size(), start + bs);
      std::vector<std::string> chunk(queries.begin() + static_cast<std::ptrdiff_t>(start),
                                     queries.begin() + static_cast<std::ptrdiff_t>(end));
      auto p = torch::softmax(logits(chunk), -1).to(torch::kCPU, torch::kFloat64);
      out.narrow(0, static_cast<int64_t>(start), static_cast<int64_t>(end - start)).copy_(p);
    }
    return out;
  }

  /// [B, M] logits with autograd when grad mode is on.
  torch::Tensor logits(const std::vector<std::string>& texts) const {
    auto batch = encoder_->tokenize(texts);
    auto pooled = mean_pool(net_->forward(batch), batch.mask);
    return torch::linear(pooled, w_, b_);
  }

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> ps;
    for (auto& [n, t] : net_->named_parameters()) ps.push_back(t);
    ps.push_back(w_);
    ps.push_back(b_);
    return ps;
  }

  RouterConfig& mutable_config() { return config_; }

 protected:
  std::vector<std::pair<std::string, torch::Tensor>> state() const override {
    return {{"head.weight", w_}, {"head.bias", b_}};
  }

  void save_extra(const std::string& dir) const override {
    const std::string out = files::join(dir, "encoder");
    if (files::exists(out) && files::exists(source_) && real_path(out) == real_path(source_))
      return;  // saved where it was loaded from: the checkpoint is already there and unchanged
    files::make_dirs(out);
    for (const char* f : kTokenizerFiles)
      if (files::is_regular_file(files::join(source_, f))) files::copy_file(files::join(source_, f), files::join(out, f));
    // config.json as a base model (*Model): the fine-tuned weights hold no pooler or head.
    auto j = nlohmann::json::parse(files::read_file(files::join(source_, "config.json")));
    j["architectures"] = {encoder_->config().family == "roberta" ? "RobertaModel" : "BertModel"};
    files::write_file(files::join(out, "config.json"), j.dump(2) + "\n");
    std::vector<torch::Tensor> keep;
    std::vector<io::TensorToWrite> w;
    for (const auto& [name, t] : net_->named_parameters()) {
      auto x = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
      keep.push_back(x);
      w.push_back({name, io::DType::F32, std::vector<int64_t>(x.sizes().begin(), x.sizes().end()), x.data_ptr(),
                   static_cast<uint64_t>(x.numel() * x.element_size())});
    }
    io::write_safetensors(files::join(out, "model.safetensors"), w, {{"format", "pt"}});
  }

 private:
  std::shared_ptr<const Encoder> encoder_;
  std::shared_ptr<TrainableEncoder> net_;
  torch::Tensor w_, b_;
  std::string source_;  ///< checkpoint folder the encoder was read from (config and tokenizer files)
};

std::shared_ptr<const Encoder> load_encoder(const std::string& path, torch::Device device, int64_t max_length) {
  EncoderOptions eo;
  eo.device = device;
  eo.dtype = torch::kFloat32;
  auto probe = Encoder::load(path, eo);  // resolves the checkpoint's own limit
  if (max_length <= 0 || max_length >= probe->config().max_length) return probe;
  eo.max_length = max_length;
  return Encoder::load(path, eo);
}

// Softmax cross-entropy against rows of `y` normalized to sum 1 (mean over rows).
torch::Tensor soft_ce(const torch::Tensor& logits, const torch::Tensor& y) {
  auto t = y / y.sum(1, true).clamp_min(1e-12);
  return -(t * torch::log_softmax(logits, -1)).sum(1).mean();
}

double mean_top1(const RoutingTable& t, const Router& r) {
  auto ranks = r.rank_texts(t.queries);
  auto dc = t.div_cov.accessor<double, 2>();
  double s = 0;
  for (size_t q = 0; q < ranks.size(); ++q) s += dc[static_cast<int64_t>(q)][ranks[q][0]];
  return ranks.empty() ? 0.0 : s / static_cast<double>(ranks.size());
}

}  // namespace

std::shared_ptr<Router> train_bert_router(const RoutingTable& table, const Split& split,
                                          const BertRouterOptions& o) {
  BREADTH_CHECK_ARG(!o.encoder.empty(), "BertRouterOptions.encoder: give the base encoder's checkpoint folder");
  BREADTH_CHECK_ARG(o.learning_rate > 0 && o.weight_decay >= 0 && o.batch_size > 0 && o.max_epochs > 0 &&
                        o.patience > 0 && o.max_length >= 0,
                    "BertRouterOptions: learning_rate={}, batch_size={}, max_epochs={}, patience={} must be > 0, "
                    "weight_decay={} and max_length={} >= 0",
                    o.learning_rate, o.batch_size, o.max_epochs, o.patience, o.weight_decay, o.max_length);
  BREADTH_CHECK_ARG(!o.labels.empty(), "BertRouterOptions.labels: give at least one label type");
  const int64_t Q = table.num_queries(), M = table.num_models();
  BREADTH_CHECK_ARG(!split.train.empty(), "train_bert_router: the training split is empty");
  for (const auto* part : {&split.train, &split.val, &split.test})
    for (auto i : *part)
      BREADTH_CHECK_ARG(i >= 0 && i < Q, "train_bert_router: split index {} outside the table's {} queries", i, Q);

  auto base = load_encoder(o.encoder, o.device, o.max_length);
  const RoutingTable train = table.select(split.train);
  const RoutingTable val = table.select(split.val.empty() ? split.train : split.val);
  const int64_t n = train.num_queries(), H = base->config().hidden_size;

  RouterConfig c;
  c.kind = RouterKind::kBert;
  c.feature_kind = FeatureKind::kAgnostic;
  c.pool = table.models;
  c.feature_dims = {H};
  c.feature_source = o.encoder;
  c.seed = o.seed;
  c.max_length = base->config().max_length;
  c.weight_decay = o.weight_decay;
  auto mean = train.div_cov.mean(0);
  for (int64_t m = 0; m < M; ++m) c.train_mean_div_cov.push_back(mean[m].item<double>());
  c.train_wins.assign(static_cast<size_t>(M), 0);
  for (auto i : routing::argmax_rows(train.div_cov)) ++c.train_wins[i];

  const int64_t total = o.max_epochs * static_cast<int64_t>(o.labels.size());
  int64_t done = 0;
  std::shared_ptr<BertRouter> best;
  double best_score = -1;
  for (auto labels : o.labels) {
    auto y_train = routing::labels_for(train.div_cov, labels).to(o.device, torch::kFloat32);
    auto y_val = routing::labels_for(val.div_cov, labels).to(o.device, torch::kFloat32);
    // Every label type starts from the base encoder and the same seeded head and batch order.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    const double bound = 1.0 / std::sqrt(static_cast<double>(H));
    auto w = ((torch::rand({M, H}, gen, torch::kFloat32) * 2 - 1) * bound).to(o.device).requires_grad_(true);
    auto b = ((torch::rand({M}, gen, torch::kFloat32) * 2 - 1) * bound).to(o.device).requires_grad_(true);
    RouterConfig cc = c;
    cc.labels = labels;
    auto router = std::make_shared<BertRouter>(cc, base, base->trainable(), w, b, o.encoder);
    auto params = router->parameters();
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));

    auto val_loss = [&] {
      torch::NoGradGuard ng;
      double s = 0;
      const int64_t nv = val.num_queries();
      for (int64_t start = 0; start < nv; start += o.batch_size) {
        const int64_t end = std::min(nv, start + o.batch_size);
        std::vector<std::string> texts(val.queries.begin() + start, val.queries.begin() + end);
        s += soft_ce(router->logits(texts), y_val.narrow(0, start, end - start)).item<double>() *
             static_cast<double>(end - start);
      }
      return s / static_cast<double>(nv);
    };

    std::vector<torch::Tensor> best_params;
    double best_loss = std::numeric_limits<double>::infinity();
    int64_t best_epoch = 0, since = 0, epoch = 0;
    for (; epoch < o.max_epochs && since < o.patience; ++epoch) {
      auto perm = torch::randperm(n, gen, torch::kLong);
      auto pa = perm.accessor<int64_t, 1>();
      int64_t step = 0;
      for (int64_t start = 0; start < n; start += o.batch_size, ++step) {
        const int64_t end = std::min(n, start + o.batch_size);
        std::vector<std::string> texts;
        std::vector<int64_t> rows;
        for (int64_t i = start; i < end; ++i) {
          texts.push_back(train.queries[static_cast<size_t>(pa[i])]);
          rows.push_back(pa[i]);
        }
        auto y = y_train.index_select(0, torch::tensor(rows, torch::kLong).to(o.device));
        opt.zero_grad();
        auto loss = soft_ce(router->logits(texts), y);
        loss.backward();
        opt.step();
        if (o.on_step) o.on_step(epoch, step, loss.item<double>());
      }
      const double vl = val_loss();
      if (!std::isfinite(vl))
        fail<NumericError>("train_bert_router: the validation loss is not finite after epoch {} (lower "
                           "BertRouterOptions.learning_rate?)",
                           epoch + 1);
      if (vl < best_loss) {
        best_loss = vl;
        best_epoch = epoch + 1;
        since = 0;
        best_params.clear();
        for (const auto& p : params) best_params.push_back(p.detach().clone());
      } else {
        ++since;
      }
      ++done;
      if (o.on_progress && !o.on_progress(done, total, fmt::format("bert labels={}", label_type_name(labels))))
        fail<Cancelled>("BERT router training cancelled");
    }
    done += o.max_epochs - epoch;  // epochs early stopping skipped
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
    }
    router->mutable_config().epochs = best_epoch;
    const double score = mean_top1(val, *router);
    router->mutable_config().val_div_cov = score;
    if (score > best_score) {  // ties keep the earlier label type
      best_score = score;
      best = router;
    }
  }
  return best;
}

std::shared_ptr<Router> load_router(const std::string& dir, const std::vector<std::string>& expected_pool,
                                    torch::Device device) {
  RouterConfig c = read_router_config(dir, expected_pool);
  if (c.kind != RouterKind::kBert) return Router::load(dir, expected_pool);
  const std::string enc_dir = files::join(dir, "encoder");
  if (!files::is_directory(enc_dir))
    fail<IoError>("'{}' is a bert router without its encoder folder '{}' (written by Router::save)", dir, enc_dir);
  auto encoder = load_encoder(enc_dir, device, c.max_length);
  const int64_t M = static_cast<int64_t>(c.pool.size()), H = encoder->config().hidden_size;
  io::SafetensorsFile f(files::join(dir, "weights.safetensors"));
  auto get = [&](const std::string& name, std::vector<int64_t> shape) {
    const auto& v = f.at(name);
    BREADTH_CHECK_FORMAT(v.dtype == io::DType::F32 && v.shape == shape, "{}: tensor '{}' must be F32 [{}]",
                         f.path(), name, fmt::join(shape, ", "));
    return torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, torch::kFloat32).clone().to(device);
  };
  auto w = get("head.weight", {M, H});
  auto b = get("head.bias", {M});
  return std::make_shared<BertRouter>(c, encoder, encoder->trainable(), w, b, enc_dir);
}

TextRouterTrainer bert_report_router(BertRouterOptions options) {
  TextRouterTrainer t;
  t.name = "BERT (fine-tuned)";
  t.train = [options](const RoutingTable& table, const Split& split, uint64_t seed) {
    BertRouterOptions o = options;
    o.seed = seed;
    return train_bert_router(table, split, o);
  };
  return t;
}

}  // namespace breadth
