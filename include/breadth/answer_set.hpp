// Answer sets (router paper §3 and Appendix B): ask models for many answers to one question, parse
// them out of whatever the models wrote, and keep asking until B answers are collected.
//
// Three prompt strategies: generate-one (one answer per generation), generate-two, generate-all
// ("list all the possible answers you can think of", the paper's default). Fixed-answer questions are
// answered as `{a, b, ...}`; open-ended ones as a list of `{"answer-id": k, "content": "..."}`
// objects. The prompt texts are the paper's Figures 7–12, verbatim.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "breadth/sampler.hpp"

namespace breadth {

class CausalLM;

enum class AnswerStrategy { kOne, kTwo, kAll };
enum class QuestionKind {
  kFixed,  ///< a closed set of short answers (days of the week, prime numbers, ...): `{a, b}`
  kOpen,   ///< free-form answers (titles, jokes, ...): `{"answer-id": k, "content": "..."}` objects
};

/// "one" / "two" / "all" (also "g-1", "g-2", "g-all"); throws InvalidArgument otherwise.
AnswerStrategy parse_strategy(std::string_view name);
const char* strategy_name(AnswerStrategy s);
/// "open" / "fixed"; throws InvalidArgument naming `what` ("--question-kind") otherwise.
QuestionKind parse_question_kind(std::string_view name, std::string_view what = "question kind");
const char* question_kind_name(QuestionKind k);
/// Answers one generation of a strategy asks for (1, 2, or 0 for "as many as it can").
int64_t answers_requested(AnswerStrategy s);

struct Question {
  /// The question as the user would ask it, e.g. NoveltyBench's "Name a Spanish speaking country."
  std::string text;
  QuestionKind kind = QuestionKind::kOpen;
  /// Fixed-answer prompts name the unit of an answer: the paper's Figure 7 says "Output only the day
  /// between two curly braces, like this: {day}."; `items` is the plural ("days").
  std::string item = "answer";
  std::string items = "answers";
  /// The paper rewords fixed-answer questions per strategy ("Output a randomly selected day of the
  /// week." / "Output two different randomly selected days of the week." / "Output all days of the
  /// week."); when set, these replace `text` for generate-one / generate-two.
  std::string text_one, text_two;
};

/// The user-turn text for `question` under `strategy` (before any chat template).
std::string answer_prompt(const Question& question, AnswerStrategy strategy);

/// Which reading of a generation gave its answers.
enum class AnswerParser {
  kNone = 0,    ///< nothing was read (the generation failed)
  kJson = 1,    ///< open-ended: the requested `"content": ...` fields
  kBraces = 2,  ///< fixed-answer: the requested `{a, b, ...}` groups
  kList = 3,    ///< fallback: a bulleted or numbered list, one answer per top-level item
  kLine = 4,    ///< fixed-answer fallback: a single short comma-separated line
};
inline constexpr size_t kAnswerParserCount = 5;
/// "none", "json", "braces", "list", "line".
const char* answer_parser_name(AnswerParser p);

/// What a parser recovered from one generation. Never throws: a generation it cannot read gives no
/// answers and says why in `failure`; `notes` lists repairs made on the way (truncated last item
/// dropped, code fence removed, ...); `parser` says which reading gave the answers.
struct ParsedAnswers {
  std::vector<std::string> answers;
  std::string failure;
  std::vector<std::string> notes;
  AnswerParser parser = AnswerParser::kNone;
  bool ok() const { return !answers.empty(); }
};

/// `{a, b, ...}` lists: every brace group, commas outside quotes separate answers, quotes and a
/// trailing period around an answer are removed, "..." placeholders skipped. An unclosed group at the
/// end keeps its complete items (followed by a comma or newline) and drops the possibly truncated last
/// one. Without any brace, a single short comma-separated line is read as the list.
ParsedAnswers parse_fixed_answers(std::string_view text);
/// `"content": "..."` values in order (JSON string escapes decoded; a quote not followed by `,` `}`
/// or a line end is taken as part of the text). Truncated values are dropped, ids are not trusted
/// (duplicated or missing ids keep their answers), template placeholders ("Your answer here") skipped.
/// When no `content` key is present at all, a bulleted or numbered list is read instead
/// (`parse_list_answers`).
ParsedAnswers parse_open_answers(std::string_view text);
/// The list fallback: one answer per top-level item of a bulleted (`-`, `*`, `+`, `•`) or numbered
/// (`1.`, `1)`) list, anywhere in the text. An item that starts with a quoted, bold or italic span is
/// that span (what follows is commentary); otherwise the item up to the first ` - `, ` – `, ` — ` or
/// `: ` separator, without a trailing `(...)` or period. Headings (items ending in `:`), deeper
/// (indented) items and lines that are not list items are ignored, so prose yields nothing.
ParsedAnswers parse_list_answers(std::string_view text);
ParsedAnswers parse_answers(std::string_view text, QuestionKind kind);

/// GenerateOptions for answer-set generations (see AnswerSetOptions::generation).
inline GenerateOptions answer_generation_defaults() {
  GenerateOptions g;
  g.max_new_tokens = 512;
  return g;
}

struct AnswerSetOptions {
  AnswerStrategy strategy = AnswerStrategy::kAll;
  int64_t budget = 50;                  ///< B: answers to collect over all models
  /// Share of the budget per model (normalised; empty = equal shares). Rounded so the shares add to B.
  std::vector<double> ratios;
  /// Generations per model and round (the batch n of one generate() call).
  int64_t batch = 10;
  /// At most this many generations per model in all (the retry budget); 0 = 4 * its share / answers a
  /// generation asks for (generate-all counts as 1), at least 2 * batch.
  int64_t max_generations = 0;
  /// Sampling, seed, max_new_tokens, chat template switch, callbacks. num_samples and
  /// first_sample_index are set by the collector. Default: GenerateOptions' defaults with room for
  /// a whole answer list (512 new tokens; a generate-all reply lists up to B answers).
  GenerateOptions generation = answer_generation_defaults();
};

struct Answer {
  std::string text;
  int64_t model = 0;        ///< index into the models passed to collect_answers
  int64_t generation = 0;   ///< which of that model's generations (0-based) it came from
};

struct ModelAnswers {
  int64_t target = 0;              ///< this model's share of the budget
  int64_t collected = 0;           ///< answers kept (<= target)
  int64_t generations = 0;         ///< generations it took
  int64_t failed_generations = 0;  ///< generations that gave no answer
  int64_t generated_tokens = 0;
  std::vector<std::string> failures;  ///< the parser's reasons, one per failed generation (first 20)
  /// Generations by the parser that read them, indexed by AnswerParser (kNone counts the failed ones).
  std::array<int64_t, kAnswerParserCount> parsed_by{};
};

struct AnswerSet {
  std::vector<Answer> answers;     ///< model 0's answers first, each model's in generation order
  std::vector<ModelAnswers> models;
  bool complete = false;           ///< every model reached its target
};

/// The shares of `budget` for `n_models` models by `ratios` (largest remainders; sums to budget).
std::vector<int64_t> split_budget(int64_t budget, int64_t n_models, const std::vector<double>& ratios);

/// Samples each model (its chat template applied unless options.generation says otherwise) until it
/// has its share of the budget or its retry budget is spent. Models run one after another.
AnswerSet collect_answers(const std::vector<std::shared_ptr<const CausalLM>>& models,
                          const Question& question, const AnswerSetOptions& options = {});

}  // namespace breadth
