// Equivalence and quality specs (breadth/spec.hpp).
#include <string>

#include "breadth/encoder.hpp"
#include "breadth/model.hpp"
#include "breadth/spec.hpp"
#include "core/check.hpp"
#include "spec/internal.hpp"

namespace breadth {

std::shared_ptr<Equivalence> make_equivalence(const std::string& spec, const SpecOptions& options) {
  std::string kind, rest;
  spec::split_kind(spec, kind, rest);
  if (spec == "exact") return exact_match_equivalence();
  if (kind == "rouge1") {
    if (spec == "rouge1") return rouge1_equivalence();
    auto t = spec::parse_number(rest);
    BREADTH_CHECK_ARG(t.has_value(), "equivalence '{}': expected rouge1 or rouge1:THRESHOLD", spec);
    return rouge1_equivalence(*t);
  }
  if (kind == "noveltybench-shortcut") {
    // NoveltyBench defers long pairs to its DeBERTa classifier; without one given (…:classifier:PATH)
    // they go to ROUGE-1 > 0.458, the lexical stand-in of SPEC §4.
    if (rest.empty()) return unigram_shortcut_equivalence(rouge1_equivalence());
    return unigram_shortcut_equivalence(make_equivalence(rest, options));
  }
  if (kind == "embedding" || kind == "classifier") {
    std::string path;
    std::optional<double> threshold;
    spec::split_path_threshold(rest, path, threshold);
    BREADTH_CHECK_ARG(!path.empty(), "equivalence '{}': give the model path, e.g. {}:/path/to/model", spec, kind);
    if (kind == "embedding") {
      BREADTH_CHECK_ARG(threshold.has_value(),
                        "equivalence '{}': embedding equivalence needs a cosine threshold: embedding:PATH:THRESHOLD",
                        spec);
      return embedding_equivalence(make_text_embedder(Encoder::load(path, spec::encoder_options(options))), *threshold);
    }
    return classifier_equivalence(make_noveltybench_classifier(path, spec::encoder_options(options)),
                                  threshold.value_or(0.102));
  }
  fail("unknown equivalence '{}': use exact, rouge1[:T], noveltybench-shortcut[:FALLBACK], embedding:PATH:T or "
       "classifier:PATH[:T]",
       spec);
}

std::shared_ptr<QualityScorer> make_quality(const std::string& spec, const SpecOptions& options) {
  std::string kind, rest;
  spec::split_kind(spec, kind, rest);
  if (kind == "const") {
    auto v = spec::parse_number(rest);
    BREADTH_CHECK_ARG(v.has_value() && *v > 0, "quality '{}': expected const:VALUE with VALUE > 0", spec);
    return constant_quality(*v);
  }
  if (kind == "reward") {
    BREADTH_CHECK_ARG(!rest.empty(), "quality '{}': give the reward model's checkpoint, reward:PATH", spec);
    ModelOptions mo;
    mo.device = options.device;
    return reward_quality(make_reward_model(CausalLM::load(rest, mo)));
  }
  fail("unknown quality '{}': use const:VALUE or reward:PATH (per-query scores, rewards, partition_scores or gold "
       "in an answer-set file take precedence)",
       spec);
}

}  // namespace breadth
