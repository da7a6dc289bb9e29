#include <algorithm>

#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "core/utf8.hpp"

namespace breadth {

IncrementalDecoder::IncrementalDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special)
    : tokenizer_(std::move(tokenizer)), skip_special_(skip_special) {
  BREADTH_CHECK_ARG(tokenizer_ != nullptr, "IncrementalDecoder: tokenizer must not be null");
}

std::string IncrementalDecoder::push(int32_t id) {
  ids_.push_back(id);
  const std::string full = tokenizer_->decode_raw(ids_, skip_special_);
  // The context token decodes the same alone as in front of the others for every supported decoder;
  // should one differ, the text past the common length is what is new.
  const std::string_view rest = std::string_view(full).substr(std::min(prefix_text_.size(), full.size()));
  const size_t complete = tok::complete_utf8_prefix(rest);
  std::string out;
  if (complete > emitted_bytes_) out = tok::sanitize_utf8(rest.substr(emitted_bytes_, complete - emitted_bytes_));
  emitted_bytes_ = std::max(emitted_bytes_, complete);
  if (complete == rest.size()) {
    // Everything so far is out: keep the last token as context for the next one.
    ids_.erase(ids_.begin(), ids_.end() - 1);
    read_start_ = 1;
    prefix_text_ = tokenizer_->decode_raw(ids_, skip_special_);
    emitted_bytes_ = 0;
  }
  return out;
}

std::string IncrementalDecoder::flush() {
  const std::string full = tokenizer_->decode_raw(ids_, skip_special_);
  std::string out;
  if (full.size() > prefix_text_.size() + emitted_bytes_)
    out = tok::sanitize_utf8(std::string_view(full).substr(prefix_text_.size() + emitted_bytes_));
  ids_.clear();
  read_start_ = 0;
  prefix_text_.clear();
  emitted_bytes_ = 0;
  return out;
}

}  // namespace breadth
