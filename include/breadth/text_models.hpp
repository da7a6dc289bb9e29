// The model-backed judges that evaluation needs, as small interfaces.
//
// Evaluation (DivCov, diversity metrics) never depends on a model implementation: it sees text
// embedders, pair classifiers, reward models and NLI models only through these interfaces. The
// encoder component (lib/encoder) implements them and registers a loader under a name, so that the
// CLI's `--equivalence embedding:PATH` or `classifier:PATH` finds it without knowing the class.
//
// Every call is batched: callers hand over all the texts or pairs they need at once, so that an
// implementation can run one padded forward pass instead of one per pair.
#pragma once

#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace breadth {

/// Maps texts to vectors ([n, d] floating tensor, one row per text, any device). Rows need not be
/// normalized; users of embeddings normalize where cosine similarity is meant.
class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  virtual torch::Tensor embed(const std::vector<std::string>& texts) const = 0;
};

/// A cross-encoder over text pairs. `probabilities(pairs)[i]` is P(the pair's relation holds), e.g.
/// P(equivalent) for NoveltyBench's DeBERTa classifier (input: [CLS] first [SEP] second [SEP]) or
/// P(entailment | premise=first, hypothesis=second) for an NLI model.
class PairClassifier {
 public:
  virtual ~PairClassifier() = default;
  virtual std::vector<double> probabilities(
      const std::vector<std::pair<std::string, std::string>>& pairs) const = 0;
};

/// A reward model: raw scalar rewards for the conversations [user: prompt, assistant: answer_i].
class RewardModel {
 public:
  virtual ~RewardModel() = default;
  virtual std::vector<double> rewards(const std::string& prompt,
                                      const std::vector<std::string>& answers) const = 0;
};

/// Loaders by kind ("embedder", "classifier", "nli", "reward"). An implementation registers itself
/// once (lib/encoder does so from a static initializer); the registry is header-only so that the
/// encoder component can register without linking to evaluation, nor evaluation to it.
struct TextModelLoaders {
  std::function<std::shared_ptr<TextEmbedder>(const std::string& path)> embedder;
  std::function<std::shared_ptr<PairClassifier>(const std::string& path)> classifier;
  std::function<std::shared_ptr<PairClassifier>(const std::string& path)> nli;
  std::function<std::shared_ptr<RewardModel>(const std::string& path)> reward;
};

/// The process-wide loaders; empty members mean "no implementation linked in".
inline TextModelLoaders& text_model_loaders() {
  static TextModelLoaders loaders;
  return loaders;
}

}  // namespace breadth
