// Answer-set prompts equal the paper's figures; the parsers recover every well-formed answer from a
// corpus of malformed outputs (hand-written from the prompt formats) and from NoveltyBench's real
// gemini-1.5-pro generations.
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "breadth/answer_set.hpp"
#include "breadth/error.hpp"
#include "common/test_env.hpp"
// Last: libtorch's logging header defines its own CHECK, which Catch's must override.
#include <catch2/catch.hpp>

using namespace breadth;
using Strings = std::vector<std::string>;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The text of a figure in the paper's Appendix B: between "Prompt for <title>\n\n" and "\n\nFigure N".
std::string paper_figure(const std::string& paper, const std::string& title, int figure) {
  auto head = "Prompt for " + title + "\n\n";
  auto a = paper.find(head);
  REQUIRE(a != std::string::npos);
  a += head.size();
  auto b = paper.find("\n\nFigure " + std::to_string(figure) + ":", a);
  REQUIRE(b != std::string::npos);
  // Markdown hard breaks and escapes of the transcription.
  return replace_all(replace_all(paper.substr(a, b - a), "  \n", "\n"), "\\_", "_");
}

}  // namespace

TEST_CASE("prompts are the paper's Figures 7-12 verbatim") {
  auto paper = read_file(breadth::test::shared_dir() + "/papers/diversity-router.md");
  REQUIRE(!paper.empty());
  Question days;
  days.kind = QuestionKind::kFixed;
  days.item = "day";
  days.items = "days";
  days.text = "Output all days of the week.";
  days.text_one = "Output a randomly selected day of the week.";
  days.text_two = "Output two different randomly selected days of the week.";
  CHECK(answer_prompt(days, AnswerStrategy::kOne) == paper_figure(paper, "generate one, simple questions", 7));
  CHECK(answer_prompt(days, AnswerStrategy::kTwo) == paper_figure(paper, "generate two, simple questions", 8));
  CHECK(answer_prompt(days, AnswerStrategy::kAll) == paper_figure(paper, "generate all, simple questions", 9));

  Question memoir;
  memoir.text = "I am working on a memoir of a computer science PhD student who worked on machine translation "
                "in the 1990s. Suggest a single title and nothing else.";
  CHECK(answer_prompt(memoir, AnswerStrategy::kOne) ==
        paper_figure(paper, "generate one, open-ended questions", 10));
  CHECK(answer_prompt(memoir, AnswerStrategy::kTwo) ==
        paper_figure(paper, "generate two, open-ended questions", 11));
  CHECK(answer_prompt(memoir, AnswerStrategy::kAll) ==
        paper_figure(paper, "generate all, open-ended questions", 12));

  CHECK(parse_strategy("g-all") == AnswerStrategy::kAll);
  CHECK(parse_strategy("TWO") == AnswerStrategy::kTwo);
  CHECK_THROWS_AS(parse_strategy("three"), InvalidArgument);
  CHECK(parse_question_kind("open") == QuestionKind::kOpen);
  CHECK(parse_question_kind("fixed") == QuestionKind::kFixed);
  CHECK(std::string(question_kind_name(QuestionKind::kFixed)) == "fixed");
  CHECK_THROWS_AS(parse_question_kind("closed", "--kind"), InvalidArgument);
  CHECK_THROWS_AS(answer_prompt(Question{}, AnswerStrategy::kAll), InvalidArgument);
}

TEST_CASE("fixed-answer parser: well-formed and malformed lists") {
  struct Case {
    std::string text;
    Strings want;
  };
  const std::vector<Case> cases = {
      {"{Wednesday}", {"Wednesday"}},
      {"{Monday, Tuesday}", {"Monday", "Tuesday"}},
      {"{Monday,Tuesday}", {"Monday", "Tuesday"}},
      {"Sure! Here's a random day: {Friday}. Enjoy your day!", {"Friday"}},
      {"{Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday}",
       {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}},
      // truncated list: the cut item is dropped
      {"{Monday, Tuesday, Wednes", {"Monday", "Tuesday"}},
      {"{Monday, Tuesday,", {"Monday", "Tuesday"}},
      // missing closing brace, commentary after a blank line
      {"{Monday, Tuesday, Wednesday\n\nThese are the first three days.", {"Monday", "Tuesday", "Wednesday"}},
      // code fence and code
      {"```python\ndays = {\"Monday\", \"Tuesday\"}\nprint(days)\n```", {"Monday", "Tuesday"}},
      {"```\n{Saturday}\n```", {"Saturday"}},
      // missing braces altogether
      {"Monday, Tuesday, Wednesday", {"Monday", "Tuesday", "Wednesday"}},
      {"Here you go: Monday, Friday", {"Monday", "Friday"}},
      {"Thursday", {"Thursday"}},
      // a bulleted or numbered list of short items instead of braces
      {"Output:\n* Spain\n* Mexico\n* Costa Rica", {"Spain", "Mexico", "Costa Rica"}},
      {"Here they are:\n1. Monday\n2) Tuesday\n3. **Friday**\nHope this helps!", {"Monday", "Tuesday", "Friday"}},
      // quotes, escaped quotes, commas inside quotes, apostrophes
      {"{\"Hello, world\", \"say \\\"hi\\\"\"}", {"Hello, world", "say \"hi\""}},
      {"{'Monday', 'Tuesday'}", {"Monday", "Tuesday"}},
      {"{Valentine's Day, New Year's Eve}", {"Valentine's Day", "New Year's Eve"}},
      // several groups, nested groups, one answer per line
      {"{Monday}\n{Tuesday}", {"Monday", "Tuesday"}},
      {"{{Monday, Tuesday}}", {"Monday", "Tuesday"}},
      {"{\n  Monday,\n  Tuesday\n}", {"Monday", "Tuesday"}},
      {"{2, 3, 5, 7, 11}", {"2", "3", "5", "7", "11"}},
      // trailing periods go, inner ones stay; placeholders and ellipses are skipped
      {"{Monday.}", {"Monday"}},
      {"{Mr. Smith, Dr. Who}", {"Mr. Smith", "Dr. Who"}},
      {"{Monday, Tuesday, ...}", {"Monday", "Tuesday"}},
      {"{**Monday**, `Tuesday`}", {"Monday", "Tuesday"}},
      {"<think>maybe {Sunday}?</think>{Monday}", {"Monday"}},
      // duplicates are answers too (uniqueness is the metric's business)
      {"{Monday, Monday}", {"Monday", "Monday"}},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    auto p = parse_fixed_answers(c.text);
    CHECK(p.answers == c.want);
    CHECK(p.failure.empty());
  }
  auto t = parse_fixed_answers("{Monday, Tuesday, Wednes");
  CHECK_THAT(t.notes.empty() ? std::string() : t.notes[0], Catch::Contains("truncated"));
}

TEST_CASE("fixed-answer parser: unparsable outputs give zero answers and a reason") {
  const Strings bad = {
      "",
      "   \n\n ",
      "{}",
      "{day_1, day_2, ...}",
      "{answer_1,answer_2}",
      "I think the best day of the week is Monday because everybody loves to hate it, honestly.",
      "Here is my answer:\n- Monday is the start of the working week for most people\n- Tuesday",
      "{",
      "}}}}",
  };
  for (const auto& b : bad) {
    INFO("text: " << b);
    auto p = parse_fixed_answers(b);
    CHECK(p.answers.empty());
    CHECK(!p.failure.empty());
  }
}

TEST_CASE("open-ended parser: well-formed and malformed object lists") {
  struct Case {
    std::string text;
    Strings want;
  };
  const std::vector<Case> cases = {
      // the format exactly as prompted
      {"{\n  { \"answer-id\": 1,\n    \"content\": \"Lost in Translation\"\n  },\n  { \"answer-id\": 2,\n"
       "    \"content\": \"Parallel Corpora\"\n  }\n}",
       {"Lost in Translation", "Parallel Corpora"}},
      // code fence and chatter around it; "content" in prose is not a key
      {"Here are my suggestions:\n```json\n{\n  {\"answer-id\": 1, \"content\": \"A\"},\n"
       "  {\"answer-id\": 2, \"content\": \"B\"}\n}\n```\nI hope this content helps! Let me know.",
       {"A", "B"}},
      // truncated inside the last value, inside the last key, after the last colon
      {"{\n {\"answer-id\": 1, \"content\": \"Alpha\"},\n {\"answer-id\": 2, \"content\": \"Bet", {"Alpha"}},
      {"{\n {\"answer-id\": 1, \"content\": \"Alpha\"},\n {\"answer-id\": 2, \"cont", {"Alpha"}},
      {"{\n {\"answer-id\": 1, \"content\": \"Alpha\"},\n {\"answer-id\": 2, \"content\": ", {"Alpha"}},
      // escapes
      {"{{\"answer-id\": 1, \"content\": \"The \\\"Lost\\\" Years\"}}", {"The \"Lost\" Years"}},
      {"{{\"answer-id\": 1, \"content\": \"Caf\\u00e9 \\ud83d\\ude00\\nline 2\"}}",
       {"Caf\xC3\xA9 \xF0\x9F\x98\x80\nline 2"}},
      // unescaped inner quotes
      {"{{\"answer-id\": 1, \"content\": \"The \"Lost\" Years\"},{\"answer-id\": 2, \"content\": \"B\"}}",
       {"The \"Lost\" Years", "B"}},
      // duplicated and missing ids keep their answers
      {"{{\"answer-id\": 1, \"content\": \"A\"},{\"answer-id\": 1, \"content\": \"B\"},{\"content\": \"C\"}}",
       {"A", "B", "C"}},
      // missing braces
      {"\"answer-id\": 1, \"content\": \"A\"\n\"answer-id\": 2, \"content\": \"B\"", {"A", "B"}},
      // single quotes, capitalised key, unquoted key, valid JSON array, typographic quotes
      {"{{'answer-id': 1, 'content': 'It\\'s Alive'}}", {"It's Alive"}},
      {"[{\"answer-id\": 1, \"Content\": \"A\"}, {\"answer-id\": 2, content: \"B\"}]", {"A", "B"}},
      {"{ {\"answer-id\": 1, \"content\": \xE2\x80\x9CSmart Quotes\xE2\x80\x9D} }", {"Smart Quotes"}},
      // a missing closing quote before the next object
      {"{\n  {\"answer-id\": 1, \"content\": \"Alpha\n  },\n  {\"answer-id\": 2, \"content\": \"Beta\"}\n}",
       {"Alpha", "Beta"}},
      // raw newlines inside a value (a poem) stay
      {"{{\"answer-id\": 1, \"content\": \"Roses are red,\nviolets are blue\"\n}}",
       {"Roses are red,\nviolets are blue"}},
      // unquoted value; copied placeholder skipped
      {"{{\"answer-id\": 1, \"content\": 42}, {\"answer-id\": 2, \"content\": \"Your answer here\"}}", {"42"}},
      // a reasoning block is ignored
      {"<think>\"content\": \"draft\"</think>{{\"answer-id\": 1, \"content\": \"final\"}}", {"final"}},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    auto p = parse_open_answers(c.text);
    CHECK(p.answers == c.want);
    CHECK(p.failure.empty());
  }
  auto dup = parse_open_answers(cases[8].text);
  CHECK(std::find(dup.notes.begin(), dup.notes.end(), "duplicated answer ids") != dup.notes.end());
}

TEST_CASE("open-ended parser: chatty list outputs fall back to the list reader") {
  // Written after SmolLM2-135M-Instruct's replies to "Name a fruit." with the generate-all prompt:
  // the JSON format block is ignored and the answers come as a bulleted or numbered list.
  struct Case {
    std::string text;
    Strings want;
  };
  const std::vector<Case> cases = {
      // bulleted quoted answers, as one of the inspected generations
      {"Here are some fruits you can think of:\n\n- \"Apple\"\n- \"Banana\"\n- \"Orange\"\n- \"Mango\"\n- "
       "\"Strawberry\"\n\nThese fruits are delicious and nutritious!",
       {"Apple", "Banana", "Orange", "Mango", "Strawberry"}},
      // numbered, with trailing commentary after a dash, a colon and in parentheses
      {"Sure! Here are some possible answers:\n1. Apple - a sweet and crunchy fruit.\n2. Banana: rich in "
       "potassium\n3. Kiwi (also known as Chinese gooseberry)\n4. Pineapple.\n",
       {"Apple", "Banana", "Kiwi", "Pineapple"}},
      // bold names with commentary, "1)" markers, a quoted answer followed by a remark
      {"1) **Mango**: A tropical fruit known for its sweetness.\n2) **Papaya** - great for digestion\n3) "
       "\"Guava\", which is high in vitamin C.",
       {"Mango", "Papaya", "Guava"}},
      // "*" and typographic quotes; a heading item and nested items are skipped
      {"Fruits:\n* Citrus fruits:\n  * Lemon\n  * Lime\n* \xE2\x80\x9C" "Cherry\xE2\x80\x9D is my favourite\n* "
       "Grape\n",
       {"Cherry", "Grape"}},
      // open-ended answers can be whole sentences: an item without a separator is kept whole
      {"Here are some jokes:\n1. Why did the banana go to the doctor? Because it wasn't peeling well.\n2. What do "
       "you call a sad strawberry? A blueberry.",
       {"Why did the banana go to the doctor? Because it wasn't peeling well", "What do you call a sad strawberry? "
                                                                               "A blueberry"}},
      // the JSON block copied but left empty, then a list (no "content" key in the text)
      {"```\n{\n  \"answer-id\": 1\n}\n```\n- Peach\n- Plum", {"Peach", "Plum"}},
      // a list cut by the length limit keeps the items it has (the last one may be cut short)
      {"- \"Apple\"\n- \"Banana\"\n- \"Ch", {"Apple", "Banana", "\"Ch"}},
      // placeholders and ellipses copied from a template are skipped
      {"- Apple\n- ...\n- answer_3", {"Apple"}},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    auto p = parse_open_answers(c.text);
    CHECK(p.answers == c.want);
    CHECK(p.failure.empty());
    CHECK(p.parser == AnswerParser::kList);
    CHECK(parse_list_answers(c.text).answers == c.want);
  }
  // The requested JSON wins over a list in the same text.
  auto j = parse_open_answers("- intro\n{\"answer-id\": 1, \"content\": \"Apple\"}\n- \"Banana\"");
  CHECK(j.answers == Strings{"Apple"});
  CHECK(j.parser == AnswerParser::kJson);
  // Prose yields nothing: chatty replies without any list.
  const Strings prose = {
      "A fruit is the sweet and fleshy product of a tree or other plant that contains seed and can be eaten as "
      "food. Some examples include apples, bananas and oranges.",
      "I'm sorry, but I can't list all the fruits in the world. There are thousands of different fruits, each with "
      "its own unique taste and texture.\n\nIf you have a specific fruit in mind, feel free to ask!",
      "Fruits are an important part of a healthy diet. 2 or 3 servings a day are recommended.\n-1 is not a fruit.",
      "Fruits:\n* Citrus fruits:\n* Stone fruits:",
  };
  for (const auto& t : prose) {
    INFO("text: " << t);
    auto p = parse_open_answers(t);
    CHECK(p.answers.empty());
    CHECK(p.parser == AnswerParser::kNone);
    CHECK_THAT(p.failure, Catch::StartsWith("no \"content\" field found"));
  }
  CHECK(parse_open_answers("Fruits:\n* Citrus fruits:").failure ==
        "no \"content\" field found; the list holds no answer");
  CHECK(parse_open_answers("no list").failure == "no \"content\" field found");
  // Which reader the fixed-answer parser used.
  CHECK(parse_fixed_answers("{Monday}").parser == AnswerParser::kBraces);
  CHECK(parse_fixed_answers("* Spain\n* Mexico").parser == AnswerParser::kList);
  CHECK(parse_fixed_answers("Monday, Friday").parser == AnswerParser::kLine);
  CHECK(parse_fixed_answers("").parser == AnswerParser::kNone);
  CHECK(std::string(answer_parser_name(AnswerParser::kList)) == "list");
  CHECK(std::string(answer_parser_name(AnswerParser::kJson)) == "json");
}

TEST_CASE("open-ended parser: unparsable outputs give zero answers and a reason") {
  const Strings bad = {
      "",
      "Lost in Translation",
      "Here is a title: \"Lost in Translation\"",
      "{\n  { \"answer-id\": 1,\n    \"content\": \"Your answer here\"\n  }\n}",
      "{{\"answer-id\": 1, \"content\": \"never closed",
      "The content of this memoir: nothing.",
      "\"content\":",
  };
  for (const auto& b : bad) {
    INFO("text: " << b);
    auto p = parse_open_answers(b);
    CHECK(p.answers.empty());
    CHECK(!p.failure.empty());
  }
}

namespace {

struct Gemini {
  std::string id, prompt;
  Strings generations;
};

std::vector<Gemini> load_gemini() {
  std::vector<Gemini> rows;
  std::ifstream f(breadth::test::shared_dir() + "/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line);
    rows.push_back({j["id"], j["prompt"], j["generations"].get<Strings>()});
  }
  return rows;
}

}  // namespace

TEST_CASE("real gemini generations: free text is not mistaken for an answer list") {
  auto rows = load_gemini();
  REQUIRE(rows.size() == 100);
  int64_t n = 0, listed = 0;
  for (const auto& r : rows)
    for (const auto& g : r.generations) {
      ++n;
      // NoveltyBench's generations answer the plain prompt: none follows the open-ended format, so
      // only the list fallback can read anything, and only from list items.
      auto p = parse_open_answers(g);
      bool has_list = false;
      {
        std::istringstream lines(g);
        for (std::string l; std::getline(lines, l);) {
          auto s = trim(l);
          size_t d = 0;
          while (d < s.size() && d < 3 && std::isdigit(static_cast<unsigned char>(s[d]))) ++d;
          if (s.rfind("- ", 0) == 0 || s.rfind("* ", 0) == 0 || s.rfind("+ ", 0) == 0 ||
              s.rfind("\xE2\x80\xA2", 0) == 0 || (d > 0 && d + 1 < s.size() && (s[d] == '.' || s[d] == ')') &&
                                                   (s[d + 1] == ' ' || s[d + 1] == '\t')))
            has_list = true;
        }
      }
      if (!has_list) {
        CHECK(p.answers.empty());
        CHECK(p.failure == "no \"content\" field found");
      } else {
        ++listed;
        CHECK((p.parser == AnswerParser::kList) == p.ok());
        for (const auto& a : p.answers) {
          INFO("answer: " << a << "\n---- from: " << g);
          CHECK(!a.empty());
          CHECK(g.find(a) != std::string::npos);  // a span of the generation, never a rewrite
        }
      }
      // The fixed parser reads at most a short one-line reply; it never returns empty answers.
      auto f = parse_fixed_answers(g);
      for (const auto& a : f.answers) CHECK(!a.empty());
      // From multi-line prose only a list of short items may be read, and then verbatim.
      if (trim(g).find('\n') != std::string::npos)
        for (const auto& a : f.answers) {
          INFO("answer: " << a << "\n---- from: " << g);
          // A bullet item such as "If she's quirky:  Fig, Pip, Gus" is a list item, not prose.
          std::istringstream words(a);
          CHECK(std::distance(std::istream_iterator<std::string>(words), {}) <= 8);
          CHECK(g.find(a) != std::string::npos);
        }
    }
  CHECK(n == 1000);
  CHECK(listed == 254);  // counted independently (Python, lines starting with "- ", "* " or "1. ")
}

TEST_CASE("real gemini generations in the answer formats round-trip, whole or truncated") {
  auto rows = load_gemini();
  REQUIRE(!rows.empty());
  std::mt19937 rng(7);
  for (const auto& r : rows) {
    // Format the 10 generations as the generate-all answer a model should give (Figure 12), each
    // value JSON-escaped (newlines, quotes, unicode) by nlohmann::json.
    std::string text = "Here is the list:\n```\n{\n";
    std::vector<size_t> ends;  // where each value's closing quote ends
    Strings want;
    for (size_t k = 0; k < r.generations.size(); ++k) {
      text += "  { \"answer-id\": " + std::to_string(k + 1) + ",\n    \"content\": ";
      text += nlohmann::json(r.generations[k]).dump();
      ends.push_back(text.size());
      text += "\n  },\n";
      want.push_back(trim(r.generations[k]));
    }
    text += "}\n```\nThese titles cover a range of moods.";
    INFO("prompt " << r.id);
    auto p = parse_open_answers(text);
    CHECK(p.answers == want);
    // Truncations anywhere keep exactly the answers whose value was complete.
    std::uniform_int_distribution<size_t> cut(0, text.size());
    for (int t = 0; t < 20; ++t) {
      size_t c = cut(rng);
      size_t complete = 0;
      while (complete < ends.size() && ends[complete] <= c) ++complete;
      auto q = parse_open_answers(std::string_view(text).substr(0, c));
      INFO("cut at " << c);
      REQUIRE(q.answers.size() == complete);
      CHECK(Strings(want.begin(), want.begin() + static_cast<long>(complete)) == q.answers);
    }
  }
}

TEST_CASE("real short gemini answers round-trip through the fixed format") {
  auto rows = load_gemini();
  int64_t checked = 0;
  for (const auto& r : rows) {
    Strings items;
    for (const auto& g : r.generations) {
      auto s = trim(g);
      if (s.empty() || s.size() > 40 || s.find_first_of(",{}\n\";") != std::string::npos) { items.clear(); break; }
      if (s.back() == '.') s.pop_back();
      items.push_back(s);
    }
    if (items.empty()) continue;
    std::string text = "{";
    for (size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + items[i];
    text += "}";
    INFO(text);
    CHECK(parse_fixed_answers(text).answers == items);
    ++checked;
  }
  CHECK(checked >= 3);
}

TEST_CASE("parsers never throw on arbitrary bytes") {
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\"'\\,:;\n ` abcu0123456789-content answer-id\xE2\x80\x9C\xE2\x80\x9D\xFF";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1), len(0, 200);
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    size_t n = len(rng);
    for (size_t k = 0; k < n; ++k) s.push_back(alphabet[pick(rng)]);
    ParsedAnswers a, b;
    CHECK_NOTHROW(a = parse_fixed_answers(s));
    CHECK_NOTHROW(b = parse_open_answers(s));
    CHECK(a.ok() == a.failure.empty());
    CHECK(b.ok() == b.failure.empty());
  }
}
