// Provenance summaries: base-model share and switching by position (BACO §6.1).
#include "breadth/baco.hpp"

namespace breadth {

const char* token_source_name(TokenSource s) {
  return s == TokenSource::kBase ? "base" : "aligned";
}

const char* choice_reason_name(ChoiceReason r) {
  switch (r) {
    case ChoiceReason::kRule: return "rule";
    case ChoiceReason::kFirstToken: return "first_token";
    case ChoiceReason::kInWord: return "in_word";
    case ChoiceReason::kEosHandoff: return "eos_handoff";
  }
  return "?";
}

int64_t BacoSample::length() const {
  int64_t n = static_cast<int64_t>(tokens.size());
  return n > 0 && tokens.back().eos ? n - 1 : n;
}

int64_t BacoSample::base_tokens() const {
  int64_t n = 0;
  for (int64_t i = 0; i < length(); ++i) n += tokens[static_cast<size_t>(i)].source == TokenSource::kBase;
  return n;
}

int64_t BacoSample::switches() const {
  int64_t n = 0;
  for (int64_t i = 1; i < length(); ++i)
    n += tokens[static_cast<size_t>(i)].source != tokens[static_cast<size_t>(i - 1)].source;
  return n;
}

BacoSummary summarize(const std::vector<BacoSample>& samples) {
  BacoSummary s;
  s.samples = static_cast<int64_t>(samples.size());
  std::vector<int64_t> base_at, switch_at;
  for (const auto& x : samples) {
    const int64_t len = x.length();
    s.tokens += len;
    s.base_tokens += x.base_tokens();
    s.switches += x.switches();
    s.retries += x.retries;
    s.eos_finished += x.finish == FinishReason::kEos;
    if (static_cast<int64_t>(s.samples_by_position.size()) < len) {
      s.samples_by_position.resize(static_cast<size_t>(len), 0);
      base_at.resize(static_cast<size_t>(len), 0);
      switch_at.resize(static_cast<size_t>(len), 0);
    }
    for (int64_t i = 0; i < len; ++i) {
      const auto& t = x.tokens[static_cast<size_t>(i)];
      ++s.samples_by_position[static_cast<size_t>(i)];
      base_at[static_cast<size_t>(i)] += t.source == TokenSource::kBase;
      if (i > 0) switch_at[static_cast<size_t>(i)] += t.source != x.tokens[static_cast<size_t>(i - 1)].source;
    }
  }
  s.base_share = s.tokens ? static_cast<double>(s.base_tokens) / static_cast<double>(s.tokens) : 0.0;
  s.mean_length = s.samples ? static_cast<double>(s.tokens) / static_cast<double>(s.samples) : 0.0;
  for (size_t i = 0; i < s.samples_by_position.size(); ++i) {
    const double n = static_cast<double>(s.samples_by_position[i]);
    s.base_share_by_position.push_back(static_cast<double>(base_at[i]) / n);
    s.switch_rate_by_position.push_back(static_cast<double>(switch_at[i]) / n);
  }
  return s;
}

}  // namespace breadth
