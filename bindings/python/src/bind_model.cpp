// breadth.Model (a causal LM and its tokenizer) and breadth.Encoder (sentence encoders).
#include <fmt/format.h>

#include "breadth/chat_template.hpp"
#include "breadth/encoder.hpp"
#include "breadth/model.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

// The library's defaults, which the keyword arguments show (never restated here).
const ModelOptions kModelDefaults;

using ModelPtr = std::shared_ptr<CausalLM>;

const Tokenizer& tokenizer_of(const CausalLM& m) {
  auto t = m.tokenizer();
  if (!t) throw InvalidArgument("the model has no tokenizer; load a checkpoint that includes one");
  return *t;
}

/// Token sequences from a str (encoded with the tokenizer's special tokens, as transformers does),
/// a list of ids, a list of lists, or an int tensor [T] / [B, T].
std::vector<std::vector<int32_t>> sequences_of(const CausalLM& m, const py::object& x) {
  if (py::isinstance<py::str>(x)) return {tokenizer_of(m).encode(x.cast<std::string>(), true)};
  if (THPVariable_Check(x.ptr())) {
    auto t = x.cast<torch::Tensor>().to(torch::kCPU, torch::kInt64);
    if (t.dim() == 1) t = t.unsqueeze(0);
    if (t.dim() != 2) throw InvalidArgument("ids must be a tensor [T] or [B, T]");
    std::vector<std::vector<int32_t>> out(t.size(0));
    auto a = t.accessor<int64_t, 2>();
    for (int64_t b = 0; b < t.size(0); ++b)
      for (int64_t i = 0; i < t.size(1); ++i) out[b].push_back(static_cast<int32_t>(a[b][i]));
    return out;
  }
  py::list l = x.cast<py::list>();
  if (l.size() > 0 && !py::isinstance<py::int_>(l[0])) return x.cast<std::vector<std::vector<int32_t>>>();
  return {x.cast<std::vector<int32_t>>()};
}

/// One forward pass over left-padded sequences: (logits, hidden) as ForwardOutput.
ForwardOutput run_forward(const CausalLM& m, const std::vector<std::vector<int32_t>>& seqs, bool last_only,
                          bool want_hidden) {
  if (seqs.empty()) throw InvalidArgument("give at least one sequence of token ids");
  int64_t T = 0;
  for (const auto& s : seqs) {
    if (s.empty()) throw InvalidArgument("a sequence of token ids is empty");
    T = std::max<int64_t>(T, static_cast<int64_t>(s.size()));
  }
  const int64_t B = static_cast<int64_t>(seqs.size());
  auto ids = torch::zeros({B, T}, torch::kInt64);
  auto valid = torch::zeros({B, T}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[b];
    const int64_t off = T - static_cast<int64_t>(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      ids[b][off + static_cast<int64_t>(i)] = s[i];
      valid[b][off + static_cast<int64_t>(i)] = true;
    }
  }
  KvCache cache = m.new_cache(B, T);
  ForwardOptions fo;
  fo.last_only = last_only;
  fo.want_hidden = want_hidden;
  return m.forward(cache, ids.to(m.device()), valid.to(m.device()), fo);
}

/// A single sequence's result loses its batch dimension.
torch::Tensor squeeze_single(torch::Tensor t, bool single) { return single ? t.squeeze(0) : t; }

bool is_single(const py::object& x) {
  if (py::isinstance<py::str>(x)) return true;
  if (THPVariable_Check(x.ptr())) return x.cast<torch::Tensor>().dim() == 1;
  py::list l = x.cast<py::list>();
  return l.size() == 0 || py::isinstance<py::int_>(l[0]);
}

/// Model.logits / Model.hidden: one forward pass (GIL released), one field of it, a single
/// sequence's batch dimension dropped.
torch::Tensor forward_field(const CausalLM& lm, const py::object& ids, bool last_only, bool hidden) {
  auto seqs = sequences_of(lm, ids);
  const bool single = is_single(ids);
  ForwardOutput out;
  {
    py::gil_scoped_release nogil;
    out = run_forward(lm, seqs, last_only, hidden);
  }
  return squeeze_single(hidden ? out.hidden : out.logits, single);
}

std::string model_repr(const CausalLM& m) {
  const auto& c = m.config();
  return fmt::format("<breadth.Model {} ({}) vocab={} layers={} hidden={} {} on {}>", c.family, c.architecture,
                     c.vocab_size, c.num_layers, c.hidden_size, std::string(c10::toString(m.dtype())),
                     m.device().str());
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<ModelConfig>(m, "ModelConfig", "Hyper-parameters read from config.json or GGUF metadata.")
      .def_readonly("architecture", &ModelConfig::architecture)
      .def_readonly("family", &ModelConfig::family)
      .def_readonly("vocab_size", &ModelConfig::vocab_size)
      .def_readonly("hidden_size", &ModelConfig::hidden_size)
      .def_readonly("intermediate_size", &ModelConfig::intermediate_size)
      .def_readonly("num_layers", &ModelConfig::num_layers)
      .def_readonly("num_heads", &ModelConfig::num_heads)
      .def_readonly("num_kv_heads", &ModelConfig::num_kv_heads)
      .def_readonly("head_dim", &ModelConfig::head_dim)
      .def_readonly("max_position", &ModelConfig::max_position)
      .def_readonly("rms_norm_eps", &ModelConfig::rms_norm_eps)
      .def_readonly("rope_theta", &ModelConfig::rope_theta)
      .def_readonly("tie_embeddings", &ModelConfig::tie_embeddings)
      .def_readonly("num_labels", &ModelConfig::num_labels)
      .def("__repr__", [](const ModelConfig& c) {
        return fmt::format("ModelConfig(architecture='{}', family='{}', vocab_size={}, hidden_size={}, "
                           "num_layers={}, num_heads={}, num_kv_heads={})",
                           c.architecture, c.family, c.vocab_size, c.hidden_size, c.num_layers, c.num_heads,
                           c.num_kv_heads);
      });

  auto load = [](const std::string& path, const py::object& device, const py::object& dtype,
                 const std::string& weights) {
    ModelOptions o;
    o.device = device_of(device);
    o.dtype = dtype_of(dtype);
    o.weights = parse_weight_format(weights, "weights");
    py::gil_scoped_release nogil;
    return CausalLM::load(path, o);
  };

  py::class_<CausalLM, ModelPtr>(m, "Model", R"doc(
A causal language model loaded from a Hugging Face directory or a GGUF file, with its tokenizer.

Loaded once and immutable afterwards, so one Model may serve several threads and decoders.

>>> lm = breadth.Model("smollm2-135m-instruct.gguf")          # or Model.load(path, dtype="bfloat16")
>>> ids = lm.tokenize("Name a colour.", chat=True)
>>> lm.logits(ids).shape                                       # [T, vocab]
torch.Size([..., 49152])
)doc")
      .def(py::init(load), py::arg("path"), py::arg("device") = kModelDefaults.device.str(), py::arg("dtype") = dtype_name(kModelDefaults.dtype),
           py::arg("weights") = weight_format_name(kModelDefaults.weights),
           "Loads a checkpoint (HF directory or .gguf). device: 'cpu', 'cuda', 'cuda:1' or a torch.device; "
           "dtype: 'float32', 'bfloat16', 'float16' or a torch.dtype; weights: 'native' (a GGUF's Q4_0/Q4_1/"
           "Q5_0/Q5_1/Q8_0 and Q2_K..Q6_K weights stay quantized) or 'float' (expanded to dtype).")
      .def_static("load", load, py::arg("path"), py::arg("device") = kModelDefaults.device.str(), py::arg("dtype") = dtype_name(kModelDefaults.dtype),
                  py::arg("weights") = weight_format_name(kModelDefaults.weights),
                  "Same as Model(path, device, dtype, weights).")
      .def_property_readonly("config", &CausalLM::config, py::return_value_policy::reference_internal)
      .def_property_readonly("device", [](const CausalLM& lm) { return lm.device(); })
      .def_property_readonly("weight_bytes", &CausalLM::weight_bytes,
                             "Bytes of parameters held in memory (quantized projections at their codes and scales).")
      .def_property_readonly("dtype", [](const CausalLM& lm) { return lm.dtype(); })
      .def_property_readonly("vocab_size", [](const CausalLM& lm) { return lm.config().vocab_size; })
      .def_property_readonly("eos_ids", [](const CausalLM& lm) { return tokenizer_of(lm).eos_ids(); },
                             "Token ids that end a generation.")
      .def_property_readonly("bos_id", [](const CausalLM& lm) { return tokenizer_of(lm).bos_id(); })
      .def_property_readonly("has_chat_template",
                             [](const CausalLM& lm) { return tokenizer_of(lm).has_chat_template(); })
      .def(
          "tokenize",
          [](const CausalLM& lm, const std::string& text, bool add_special, bool chat) {
            const auto& tok = tokenizer_of(lm);
            if (chat && !tok.chat_template()) throw InvalidArgument("chat=True but the model has no chat template");
            // add_special applies on top of the rendering too: the caller asked for it explicitly.
            return chat ? tok.encode_chat(text, tok.chat_template(), add_special) : tok.encode(text, add_special);
          },
          py::arg("text"), py::arg("add_special") = false, py::arg("chat") = false,
          R"doc(Token ids of `text`, equal to Hugging Face tokenizers' encode().

add_special adds what the tokenizer's post-processor adds (e.g. BOS); chat=True renders the text as
one user turn of the model's chat template (with the generation prompt) first.

>>> lm.tokenize("Hello world")
[19556, 905])doc")
      .def(
          "detokenize",
          [](const CausalLM& lm, const std::vector<int32_t>& ids, bool skip_special) {
            return tokenizer_of(lm).decode(ids, skip_special);
          },
          py::arg("ids"), py::arg("skip_special") = false, "Text of token ids (invalid UTF-8 becomes U+FFFD).")
      .def(
          "render_chat",
          [](const CausalLM& lm, const std::string& prompt) {
            const auto& tok = tokenizer_of(lm);
            if (!tok.chat_template()) throw InvalidArgument("the model has no chat template");
            return tok.chat_template()->render_user_turn(prompt);
          },
          py::arg("prompt"), "The prompt as one user turn of the chat template plus the generation prompt.")
      .def(
          "logits",
          [](const CausalLM& lm, const py::object& ids, bool last_only) {
            return forward_field(lm, ids, last_only, /*hidden=*/false);
          },
          py::arg("ids"), py::arg("last_only") = false,
          R"doc(Next-token logits (float32) for token ids (a list, a list of lists, or a tensor) or a str.

One sequence gives [T, V] ([V] with last_only=True); several give [B, T, V] (ragged sequences are
left padded; padding positions hold meaningless logits). Equal to transformers' model(ids).logits.

>>> lm.logits([1, 2, 3], last_only=True).shape
torch.Size([49152]))doc")
      .def(
          "hidden",
          [](const CausalLM& lm, const py::object& ids, bool last_only) {
            return forward_field(lm, ids, last_only, /*hidden=*/true);
          },
          py::arg("ids"), py::arg("last_only") = true,
          R"doc(Final-norm hidden states (the model's dtype): [H] per sequence at its last token by default,
[T, H] with last_only=False (transformers' hidden_states[-1]). The model-specific router features
are these at the query's last token under the chat template.)doc")
      .def(
          "score",
          [](const CausalLM& lm, const py::object& ids) {
            auto seqs = sequences_of(lm, ids);
            py::gil_scoped_release nogil;
            return lm.score(seqs);
          },
          py::arg("ids"), "Score head of a *ForSequenceClassification (reward) model: [B, num_labels].")
      .def("__repr__", &model_repr);

  // ---------------------------------------------------------------------------------------- Encoder
  py::class_<EncoderConfig>(m, "EncoderConfig")
      .def_readonly("architecture", &EncoderConfig::architecture)
      .def_readonly("family", &EncoderConfig::family)
      .def_readonly("hidden_size", &EncoderConfig::hidden_size)
      .def_readonly("embedding_size", &EncoderConfig::embedding_size)
      .def_readonly("num_layers", &EncoderConfig::num_layers)
      .def_readonly("num_labels", &EncoderConfig::num_labels)
      .def_readonly("labels", &EncoderConfig::labels)
      .def_readonly("pooling", &EncoderConfig::pooling)
      .def_readonly("normalize", &EncoderConfig::normalize)
      .def_readonly("max_length", &EncoderConfig::max_length);

  auto load_encoder = [](const std::string& path, const py::object& device, const py::object& dtype,
                         int64_t max_length, int64_t batch_size) {
    EncoderOptions o;
    o.device = device_of(device);
    o.dtype = dtype_of(dtype);
    o.max_length = max_length;
    o.batch_size = batch_size;
    py::gil_scoped_release nogil;
    return Encoder::load(path, o);
  };
  py::class_<Encoder, std::shared_ptr<Encoder>>(m, "Encoder", R"doc(
A bidirectional text encoder (BERT, RoBERTa, DeBERTa-v2/v3) from a Hugging Face directory: sentence
embeddings as sentence-transformers computes them, and cross-encoder classification.

>>> enc = breadth.Encoder("all-minilm-l6-v2")
>>> enc.embed(["a cat", "a dog"]).shape
torch.Size([2, 384])
)doc")
      .def(py::init(load_encoder), py::arg("path"), py::arg("device") = kModelDefaults.device.str(), py::arg("dtype") = dtype_name(kModelDefaults.dtype),
           py::arg("max_length") = 0, py::arg("batch_size") = 32)
      .def_static("load", load_encoder, py::arg("path"), py::arg("device") = kModelDefaults.device.str(), py::arg("dtype") = dtype_name(kModelDefaults.dtype),
                  py::arg("max_length") = 0, py::arg("batch_size") = 32)
      .def_property_readonly("config", &Encoder::config, py::return_value_policy::reference_internal)
      .def(
          "embed",
          [](const Encoder& e, const py::object& texts) {
            auto t = texts_of(texts, "texts");
            py::gil_scoped_release nogil;
            return e.embed(t);
          },
          py::arg("texts"), "Sentence embeddings [N, hidden] float32 (pooled, normalized when the checkpoint says so).")
      .def(
          "classify_pairs",
          [](const Encoder& e, const std::vector<std::string>& first, const std::vector<std::string>& second) {
            py::gil_scoped_release nogil;
            return e.classify_pairs(first, second);
          },
          py::arg("first"), py::arg("second"), "Class probabilities [N, num_labels] of text pairs.")
      .def(
          "classify",
          [](const Encoder& e, const py::object& texts) {
            auto t = texts_of(texts, "texts");
            py::gil_scoped_release nogil;
            return e.classify(t);
          },
          py::arg("texts"))
      .def("__repr__", [](const Encoder& e) {
        const auto& c = e.config();
        return fmt::format("<breadth.Encoder {} ({}) hidden={} layers={} pooling={}{}>", c.family, c.architecture,
                           c.hidden_size, c.num_layers, c.pooling, c.num_labels ? fmt::format(" labels={}", c.num_labels) : "");
      });
}

}  // namespace breadth::python

