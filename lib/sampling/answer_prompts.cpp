// The answer-set prompts, verbatim from the router paper's Appendix B (Figures 7–12).
//
// The figures show one example question each; the text around the question is the template. The
// markdown transcription's hard line breaks ("  \n") are plain newlines here and `answer\_1` is
// `answer_1`. Fixed-answer prompts name the answer unit ("day"/"days" in the figures); open-ended
// prompts append the figures' sentence and format block (code fence included) to the question.
#include <fmt/format.h>

#include <string>

#include "breadth/answer_set.hpp"
#include "core/check.hpp"

namespace breadth {
namespace {

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// Figure 7: generate one, simple questions.
std::string fixed_one(const std::string& q, const std::string& item) {
  return q + "\nOutput only the " + item + " between two curly braces,\nlike this: {" + item +
         "}.\n\nDon't output code.";
}

// Figure 8: generate two, simple questions.
std::string fixed_two(const std::string& q, const std::string& items) {
  return q + "\nOutput only the " + items +
         " between curly braces separated by a comma,\nlike this: {answer_1,answer_2}.\n\n"
         "Don't output code.";
}

// Figure 9: generate all, simple questions.
std::string fixed_all(const std::string& q, const std::string& item, const std::string& items) {
  return q + "\nOutput only the " + items + " between two curly braces,\nlike this: {" + item + "_1, " +
         item + "_2, ...}.\nDon't output code.";
}

// Figure 10: generate one, open-ended questions.
std::string open_one(const std::string& q) {
  return q +
         "\nPlease use the following format:\n"
         "\n"
         "```\n"
         "{\n"
         "  {\n"
         "    \"answer-id\": 1,\n"
         "    \"content\": \"Your answer here\"\n"
         "  },\n"
         "}\n"
         "```";
}

// Figure 11: generate two, open-ended questions.
std::string open_two(const std::string& q) {
  return q +
         " Give me two different suggestions.\nPlease use the following format:\n"
         "\n"
         "```\n"
         "{\n"
         "  {\n"
         "    \"answer-id\": 1,\n"
         "    \"content\": \"Your answer here\"\n"
         "  },\n"
         "  {\n"
         "    \"answer-id\": 2,\n"
         "    \"content\": \"Your answer here\"\n"
         "  }\n"
         "}\n"
         "```";
}

// Figure 12: generate all, open-ended questions.
std::string open_all(const std::string& q) {
  return q +
         " List all the possible answers you can think of.\n"
         "\n"
         "Please use the following format:\n"
         "\n"
         "```\n"
         "{\n"
         "  { \"answer-id\": 1,\n"
         "    \"content\": \"Your answer here\"\n"
         "  },\n"
         "  { \"answer-id\": 2,\n"
         "    \"content\": \"Your answer here\"\n"
         "  },\n"
         "  ...\n"
         "}\n"
         "```";
}

}  // namespace

AnswerStrategy parse_strategy(std::string_view name) {
  auto n = lower(name);
  if (n == "one" || n == "g-1" || n == "g1" || n == "generate-one") return AnswerStrategy::kOne;
  if (n == "two" || n == "g-2" || n == "g2" || n == "generate-two") return AnswerStrategy::kTwo;
  if (n == "all" || n == "g-all" || n == "gall" || n == "generate-all") return AnswerStrategy::kAll;
  fail("answer strategy must be one of one, two, all (or g-1, g-2, g-all), got '{}'", name);
}

QuestionKind parse_question_kind(std::string_view name, std::string_view what) {
  if (name == "open") return QuestionKind::kOpen;
  if (name == "fixed") return QuestionKind::kFixed;
  fail("{} must be open (free-form answers) or fixed (a closed set of short answers), got '{}'", what, name);
}

const char* question_kind_name(QuestionKind k) { return k == QuestionKind::kFixed ? "fixed" : "open"; }

const char* strategy_name(AnswerStrategy s) {
  switch (s) {
    case AnswerStrategy::kOne: return "one";
    case AnswerStrategy::kTwo: return "two";
    case AnswerStrategy::kAll: return "all";
  }
  return "?";
}

int64_t answers_requested(AnswerStrategy s) {
  switch (s) {
    case AnswerStrategy::kOne: return 1;
    case AnswerStrategy::kTwo: return 2;
    case AnswerStrategy::kAll: return 0;
  }
  return 0;
}

std::string answer_prompt(const Question& question, AnswerStrategy strategy) {
  BREADTH_CHECK_ARG(!question.text.empty() || (strategy == AnswerStrategy::kOne && !question.text_one.empty()) ||
                        (strategy == AnswerStrategy::kTwo && !question.text_two.empty()),
                    "Question.text must not be empty");
  std::string q = question.text;
  if (strategy == AnswerStrategy::kOne && !question.text_one.empty()) q = question.text_one;
  if (strategy == AnswerStrategy::kTwo && !question.text_two.empty()) q = question.text_two;
  if (question.kind == QuestionKind::kFixed) {
    BREADTH_CHECK_ARG(!question.item.empty() && !question.items.empty(),
                      "Question.item and Question.items must name the answer unit (e.g. day / days)");
    switch (strategy) {
      case AnswerStrategy::kOne: return fixed_one(q, question.item);
      case AnswerStrategy::kTwo: return fixed_two(q, question.items);
      case AnswerStrategy::kAll: return fixed_all(q, question.item, question.items);
    }
  }
  switch (strategy) {
    case AnswerStrategy::kOne: return open_one(q);
    case AnswerStrategy::kTwo: return open_two(q);
    case AnswerStrategy::kAll: return open_all(q);
  }
  return q;
}

}  // namespace breadth
