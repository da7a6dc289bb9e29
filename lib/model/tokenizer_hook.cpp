#include "model/tokenizer_hook.hpp"

namespace breadth::model {

std::shared_ptr<const Tokenizer> load_tokenizer(const std::string& path) {
#if defined(BREADTH_MODEL_HAVE_TOKENIZER) && BREADTH_MODEL_HAVE_TOKENIZER
  return Tokenizer::load(path);
#else
  (void)path;
  return nullptr;
#endif
}

}  // namespace breadth::model
