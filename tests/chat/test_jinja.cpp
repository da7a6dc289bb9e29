// The Jinja subset: hand-worked snippets (one construct each), Jinja2's own renderings of ~150 more
// (fixture jinja_snippets), and malformed or hostile templates that must fail cleanly.
#include <catch2/catch.hpp>

#include <random>

#include "breadth/error.hpp"
#include "chat_test_util.hpp"

using breadth::test::render_jinja;
using Json = nlohmann::ordered_json;

namespace {

const Json& ctx() {
  static const Json c = Json::parse(R"({
    "messages": [{"role": "system", "content": " sys "}, {"role": "user", "content": "Hi"}],
    "xs": [3, 1, 2], "d": {"b": 2, "a": 1}, "s": "  Text  ", "n": 7, "none": null
  })");
  return c;
}

std::string r(const std::string& src) { return render_jinja(src, ctx()); }

}  // namespace

TEST_CASE("jinja: output, literals and Python printing") {
  CHECK(r("plain text") == "plain text");
  CHECK(r("{{ 'a' ~ \"b\" }}{{ 'c' 'd' }}") == "abcd");
  CHECK(r("{{ 1 }} {{ 1.0 }} {{ 0.5 }} {{ 1e3 }} {{ 10 / 4 }}") == "1 1.0 0.5 1000.0 2.5");
  CHECK(r("{{ true }} {{ none }} {{ False }}") == "True None False");
  CHECK(r("{{ [1, 'a', none] }} {{ {'k': 'v'} }} {{ (1,) }}") == "[1, 'a', None] {'k': 'v'} (1,)");
  CHECK(r("{{ 'nl\\nx' }}|{{ 'q\\'s' }}|{{ '\\u00e9' }}") == "nl\nx|q's|\xC3\xA9");
  CHECK(r("[{{ missing }}][{{ d.missing }}][{{ xs[9] }}]") == "[][][]");
}

TEST_CASE("jinja: operators follow Python") {
  CHECK(r("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 8 }} {{ 7 / 2 }}") == "3 -4 2 256 3.5");
  CHECK(r("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' * 2 }}") == "7 9 abab");
  CHECK(r("{{ 1 == 1.0 }} {{ 1 < 2 < 3 }} {{ 'a' < 'b' }} {{ [1] == [1] }}") == "True True True True");
  CHECK(r("{{ 'el' in 'Hello' }} {{ 2 in xs }} {{ 'a' in d }} {{ 'z' not in d }}") == "True True True True");
  CHECK(r("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not none }}") == "x y True");
  CHECK(r("{{ 'a' if n > 5 else 'b' }}|{{ 'a' if n > 50 }}|") == "a||");
  CHECK(r("{{ 'x' ~ 1 ~ none ~ missing }}") == "x1None");
  // Filters bind tighter than +, so this trims only the content (Llama-3's template relies on it).
  CHECK(r("{{ '<' + s | trim + '>' }}") == "<Text>");
}

TEST_CASE("jinja: indexing, attributes and slices") {
  CHECK(r("{{ messages[1].role }} {{ messages[-1]['content'] }} {{ messages.0.role }}") == "user Hi system");
  CHECK(r("{{ xs[::-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ 'abc'[::-1] }} {{ 'hello'[1:3] }}") ==
        "[2, 1, 3] [1, 2] [3, 1] cba el");
  CHECK(r("{{ messages[::-1] | map(attribute='role') | join(',') }}") == "user,system");
}

TEST_CASE("jinja: whitespace control with trim_blocks and lstrip_blocks") {
  // lstrip_blocks removes the indentation before a block tag, trim_blocks the newline after it.
  CHECK(r("a\n    {% if true %}\n    b\n    {% endif %}\nc") == "a\n    b\nc");
  CHECK(r("a  {%- if true -%}  b  {%- endif -%}  c") == "abc");
  CHECK(r("a\n{{- 'b' -}}\nc") == "abc");
  CHECK(r("x\n  {# note #}\ny") == "x\ny");
  // Variables are not block tags: no lstrip, no trim.
  CHECK(r("  {{ 'v' }}\nz") == "  v\nz");
  // `+` keeps the indentation.
  CHECK(r("a\n  {%+ if true %}b{% endif %}") == "a\n  b");
  // One trailing newline of the template is dropped; \r\n reads as \n.
  CHECK(r("line\r\nend\n") == "line\nend");
  CHECK(r("{% raw %}{{ kept }}{% endraw %}") == "{{ kept }}");
}

TEST_CASE("jinja: control flow, loop variables and scoping") {
  CHECK(r("{% for x in xs %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}") ==
        "1TrueFalse3 2FalseFalse3 3FalseTrue3 ");
  CHECK(r("{% for x in xs if x > 1 %}{{ x }}:{{ loop.index0 }} {% endfor %}") == "3:0 2:1 ");
  CHECK(r("{% for x in [] %}a{% else %}empty{% endfor %}") == "empty");
  CHECK(r("{% for k, v in d | items %}{{ k }}={{ v }} {% endfor %}") == "b=2 a=1 ");
  CHECK(r("{% for x in xs %}{% if x == 1 %}{% break %}{% endif %}{{ x }}{% endfor %}") == "3");
  CHECK(r("{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}") == "32");
  // A set inside a loop body is local to its iteration; inside an if it is not scoped.
  CHECK(r("{% set c = 0 %}{% for x in xs %}{% set c = c + x %}{{ c }}{% endfor %}|{{ c }}") == "312|0");
  CHECK(r("{% if true %}{% set y = 'out' %}{% endif %}{{ y }}") == "out");
  // namespace() carries state out of loops (Qwen3, Mistral).
  CHECK(r("{% set ns = namespace(total=0) %}{% for x in xs %}{% set ns.total = ns.total + x %}{% endfor %}"
          "{{ ns.total }}") == "6");
  CHECK(r("{% if n > 9 %}a{% elif n > 5 %}b{% else %}c{% endif %}") == "b");
  CHECK(r("{% set a, b = 1, 2 %}{{ b }}{{ a }}") == "21");
  CHECK(r("{% set t %}[{{ n }}]{% endset %}{{ t }}{{ t }}") == "[7][7]");
  CHECK(r("{% macro tag(name, v='x') %}<{{ name }}={{ v }}>{% endmacro %}{{ tag('a') }}{{ tag('b', v=2) }}") ==
        "<a=x><b=2>");
  CHECK(r("{% generation %}g{% endgeneration %}") == "g");
}

TEST_CASE("jinja: filters") {
  CHECK(r("[{{ s | trim }}] {{ 'abc' | length }} {{ xs | length }} {{ 'Ab' | upper }}{{ 'Ab' | lower }}") ==
        "[Text] 3 3 ABab");
  CHECK(r("{{ missing | default('d') }} {{ '' | default('d', true) }} {{ n | default(0) }}") == "d d 7");
  CHECK(r("{{ xs | join('-') }} {{ xs | sort | list }} {{ xs | first }}{{ xs | last }} {{ xs | sum }}") ==
        "3-1-2 [1, 2, 3] 32 6");
  CHECK(r("{{ d | tojson }} {{ 'q\"\\n' | tojson }}") == "{\"b\": 2, \"a\": 1} \"q\\\"\\n\"");
  CHECK(r("{{ d | tojson(indent=2) }}") == "{\n  \"b\": 2,\n  \"a\": 1\n}");
  CHECK(r("{{ messages | selectattr('role', 'equalto', 'user') | list | length }}") == "1");
  CHECK(r("{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | first }}") == "system");
  CHECK(r("{{ 'a-b' | replace('-', '+') }} {{ 42 | string }} {{ '7' | int + 1 }} {{ d | dictsort | first }}") ==
        "a+b 42 8 ('a', 1)");
}

TEST_CASE("jinja: tests") {
  CHECK(r("{{ n is defined }} {{ zz is defined }} {{ none is none }} {{ 's' is string }} {{ d is mapping }}") ==
        "True False True True True");
  CHECK(r("{{ xs is iterable }} {{ n is number }} {{ 3 is odd }} {{ 4 is even }} {{ 'a' is equalto 'a' }}") ==
        "True True True True True");
  CHECK(r("{{ n is not none }} {{ not zz is defined }}") == "True True");
}

TEST_CASE("jinja: string and dict methods") {
  CHECK(r("[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ 'xxhixx'.strip('x') }}]") == "[Text] [Text  ] [hi]");
  CHECK(r("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith('x') }}") == "True False");
  CHECK(r("{{ 'a<t>b<t>c'.split('<t>')[-1] }} {{ ' a  b '.split() }}") == "c ['a', 'b']");
  CHECK(r("{{ d.get('a') }} {{ d.get('z', 0) }} {{ d.items() | list }}") == "1 0 [('b', 2), ('a', 1)]");
}

TEST_CASE("jinja: globals") {
  CHECK(r("{{ range(3) | list }} {{ range(1, 7, 2) | list }}") == "[0, 1, 2] [1, 3, 5]");
  CHECK(r("{% set ns = namespace(a=1) %}{{ ns.a }} {{ dict(k=1) }}") == "1 {'k': 1}");
  const std::string date = r("{{ strftime_now('%Y') }}");
  CHECK(date.size() == 4);
  CHECK_THROWS_AS(r("{{ raise_exception('no system role') }}"), breadth::InvalidArgument);
  CHECK_THROWS_WITH(r("{{ raise_exception('no system role') }}"), Catch::Contains("no system role"));
}

TEST_CASE("jinja: errors name the location") {
  CHECK_THROWS_AS(r("{{ missing + 'x' }}"), breadth::FormatError);
  CHECK_THROWS_WITH(r("\n\n  {{ missing + 'x' }}"), Catch::Contains("line 3") && Catch::Contains("'missing' is undefined"));
  CHECK_THROWS_AS(r("{% if x %}"), breadth::FormatError);
  CHECK_THROWS_WITH(r("ok\n{% for %}"), Catch::Contains("line 2"));
  // Valid Jinja outside the subset: Unsupported, with the location.
  CHECK_THROWS_AS(r("{% include 'other.jinja' %}"), breadth::Unsupported);
  CHECK_THROWS_AS(r("{% extends 'base' %}"), breadth::Unsupported);
  CHECK_THROWS_AS(r("{{ xs | batch(2) }}"), breadth::Unsupported);
  CHECK_THROWS_AS(r("{{ 'x'.zfill(3) }}"), breadth::Unsupported);
  CHECK_THROWS_AS(r("{{ x is fancytest }}"), breadth::Unsupported);
  CHECK_THROWS_WITH(r("\n{{ xs | nosuchfilter }}"), Catch::Contains("line 2") && Catch::Contains("nosuchfilter"));
  CHECK_THROWS_AS(r("{{ cycler(1, 2) }}"), breadth::Unsupported);
}

TEST_CASE("jinja: Jinja2's own renderings (differential, fixture jinja_snippets)") {
  const Json data = breadth::test::read_fixture_json("jinja_snippets", "snippets.json");
  const Json& context = data["context"];
  int checked = 0;
  for (const auto& c : data["cases"]) {
    const std::string src = c["template"].get<std::string>();
    INFO("template: " << src);
    if (c.contains("expected")) {
      std::string got;
      try {
        got = render_jinja(src, context);
      } catch (const std::exception& e) {
        FAIL_CHECK("threw: " << e.what());
        continue;
      }
      CHECK(got == c["expected"].get<std::string>());
    } else {
      const std::string kind = c["error"].get<std::string>();
      INFO("Jinja2 says: " << c.value("message", ""));
      if (kind == "syntax") {
        CHECK_THROWS_AS(breadth::jinja::parse(src), breadth::FormatError);
      } else if (kind == "raise") {
        CHECK_THROWS_AS(render_jinja(src, context), breadth::InvalidArgument);
      } else {
        CHECK_THROWS_AS(render_jinja(src, context), breadth::FormatError);
      }
    }
    ++checked;
  }
  CHECK(checked > 100);
}

TEST_CASE("jinja: hostile input fails cleanly") {
  using breadth::jinja::RenderLimits;
  // Deep nesting is refused before it can exhaust the stack.
  CHECK_THROWS_AS(r("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}"), breadth::FormatError);
  CHECK_THROWS_AS(r("{{ " + std::string(50000, '[') + " }}"), breadth::FormatError);
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  CHECK_THROWS_AS(r(ifs), breadth::FormatError);
  CHECK_THROWS_AS(r("{{ not " + [] { std::string s; for (int i = 0; i < 50000; ++i) s += "not "; return s; }() + "x }}"),
                  breadth::FormatError);
  // Endless or huge work is cut off.
  RenderLimits small;
  small.max_steps = 10000;
  CHECK_THROWS_AS(render_jinja("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                               Json::object(), small),
                  breadth::FormatError);
  CHECK_THROWS_AS(r("{{ 'x' * 9000000000000000000 }}"), breadth::FormatError);
  CHECK_THROWS_AS(r("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), breadth::FormatError);
  CHECK_THROWS_AS(r("{{ 9223372036854775807 + 1 }}"), breadth::FormatError);
  CHECK_THROWS_AS(r("{{ 99999999999999999999 }}"), breadth::Unsupported);
  CHECK_THROWS_AS(r("{{ xs[::0] }}"), breadth::FormatError);
  CHECK(r("{{ xs[::9223372036854775807] }}") == "[3]");
  // Invalid UTF-8 in text and strings passes through or becomes U+FFFD, never a crash.
  CHECK(r("\xff{{ '\xfe' | length }}") == "\xff" "1");
}

TEST_CASE("jinja: mutated real templates never crash (fuzz)") {
  const Json data = breadth::test::read_fixture_json("chat_templates", "templates.json");
  std::vector<std::string> seeds;
  for (auto it = data["templates"].begin(); it != data["templates"].end(); ++it)
    seeds.push_back(it.value()["source"].get<std::string>());
  const char* const kPieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "'", "\"", "(", ")", "[", "]", "|",
                                 " if ", " for ", "endif", "endfor", "\\", "\n", ".", ",", "=", "~", "\xff"};
  std::mt19937 rng(1234);
  const Json conversation = Json::parse(R"({"messages": [{"role": "user", "content": "hi"}],
                                           "add_generation_prompt": true, "bos_token": "<s>"})");
  breadth::jinja::RenderLimits limits;
  limits.max_steps = 20000;
  int parsed = 0, rendered = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0: s.erase(pos, 1 + rng() % 8); break;
        case 1: s.insert(pos, kPieces[rng() % (sizeof kPieces / sizeof *kPieces)]); break;
        case 2: s[pos] = static_cast<char>(rng() % 256); break;
        default: s.resize(pos); break;
      }
    }
    try {
      const auto program = breadth::jinja::parse(s);
      ++parsed;
      breadth::jinja::Interpreter in(limits);
      const auto v = breadth::test::to_value(conversation);
      in.render(program, v.as_dict());
      ++rendered;
    } catch (const breadth::Error&) {
      // expected for most mutations
    }
  }
  INFO("parsed " << parsed << ", rendered " << rendered);
  CHECK(parsed > 0);
}
