// ChatTemplate: the real chat templates of the supported families render exactly as transformers'
// apply_chat_template (fixture chat_templates), plus the plain, format-string and built-in templates.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "chat_test_util.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"

using breadth::ChatMessage;
using breadth::ChatTemplate;
using Json = nlohmann::ordered_json;

namespace {

std::vector<ChatMessage> to_messages(const Json& j) {
  std::vector<ChatMessage> out;
  for (const auto& m : j) out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  return out;
}

}  // namespace

TEST_CASE("chat templates render exactly as transformers' apply_chat_template") {
  const Json data = breadth::test::read_fixture_json("chat_templates", "templates.json");
  const std::string fixture_day = data["today"].get<std::string>();
  std::map<std::string, std::shared_ptr<ChatTemplate>> templates;
  for (auto it = data["templates"].begin(); it != data["templates"].end(); ++it) {
    INFO("template " << it.key());
    const Json& t = it.value();
    REQUIRE_NOTHROW(templates[it.key()] = ChatTemplate::from_jinja(
                        t["source"].get<std::string>(), t["bos_token"].get<std::string>(),
                        t["eos_token"].get<std::string>()));
  }
  // The families the brief names must all be present.
  for (const char* family : {"llama3 (tokenizer_config on disk)", "llama3.1-instruct", "qwen3 (tokenizer_config on disk)",
                             "qwen2.5", "chatml", "smollm2 (GGUF metadata)", "olmo2", "mistral-v0.3", "gemma2",
                             "gemma3", "llama2-chat"})
    CHECK(templates.count(family) == 1);

  std::set<std::string> conversations;
  int compared = 0, rejected = 0;
  for (const auto& c : data["cases"]) {
    const std::string name = c["template"].get<std::string>();
    const std::string conv = c["conversation"].get<std::string>();
    const bool agp = c["add_generation_prompt"].get<bool>();
    INFO(name << " / " << conv << " / add_generation_prompt=" << agp);
    const auto messages = to_messages(c["messages"]);
    const ChatTemplate& t = *templates.at(name);
    if (c.contains("error")) {
      // The template's raise_exception (e.g. Gemma-2 has no system role): the conversation is rejected.
      CHECK_THROWS_AS(t.render(messages, agp), breadth::InvalidArgument);
      ++rejected;
      continue;
    }
    std::string got;
    REQUIRE_NOTHROW(got = t.render(messages, agp));
    const std::string expected = c["expected"].get<std::string>();
    if (name == "llama3.2-generation" && got != expected) {
      // The template prints today's date (strftime_now); if the day changed since the fixture ran,
      // compare with that date substituted.
      const std::string today = breadth::test::render_jinja("{{ strftime_now('%d %b %Y') }}");
      std::string adjusted = expected;
      const size_t pos = adjusted.find(fixture_day);
      if (today != fixture_day && pos != std::string::npos) adjusted.replace(pos, fixture_day.size(), today);
      CHECK(got == adjusted);
    } else {
      CHECK(got == expected);
    }
    conversations.insert(conv);
    ++compared;
  }
  CHECK(compared > 200);
  CHECK(rejected > 0);
  CHECK(conversations.count("quotes, newlines, unicode") == 1);
  CHECK(conversations.count("multi-turn") == 1);
  CHECK(conversations.count("system + user") == 1);
}

TEST_CASE("render_user_turn is one user message plus the generation prompt, thinking off") {
  const Json data = breadth::test::read_fixture_json("chat_templates", "templates.json");
  const Json& q = data["templates"]["qwen3 (tokenizer_config on disk)"];
  auto t = ChatTemplate::from_jinja(q["source"].get<std::string>(), q["bos_token"].get<std::string>(),
                                    q["eos_token"].get<std::string>());
  // Hand-written from Qwen3's template: the empty think block is what enable_thinking=false adds.
  CHECK(t->render_user_turn("Hello") ==
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST_CASE("plain template renders the bare prompt") {
  auto t = ChatTemplate::plain();
  CHECK(t->render_user_turn("Once upon a time") == "Once upon a time");
  CHECK(t->render({{"system", "S"}, {"user", "U"}}, true) == "S\n\nU");
  CHECK_THROWS_AS(t->render({}, true), breadth::InvalidArgument);
  CHECK(ChatTemplate::builtin("plain")->render_user_turn("x") == "x");
}

TEST_CASE("shifting template: each content on its own line, the answer on the next (BACO Appendix A)") {
  auto t = ChatTemplate::shifting();
  CHECK(t->render_user_turn("Tell me a joke about a cat.") == "Tell me a joke about a cat.\n");
  CHECK(t->render({{"user", "Tell me a joke about a cat."}}, false) == "Tell me a joke about a cat.\n");
  // NUDGING's apply_instruct_template: f"{system}\n{instruction}\n{answer_start}" (empty answer start).
  CHECK(t->render({{"system", "Be brief."}, {"user", "Name a color"}}, true) == "Be brief.\nName a color\n");
  CHECK_THROWS_AS(t->render({}, true), breadth::InvalidArgument);
  CHECK(ChatTemplate::builtin("shifting")->render_user_turn("x") == "x\n");
  // The same text as a format string, as the C API, Python and CLI spell it.
  auto f = ChatTemplate::from_format("{system}\n{prompt}\n");
  CHECK(f->render({{"system", "Be brief."}, {"user", "Name a color"}}, true) == "Be brief.\nName a color\n");
}

TEST_CASE("format-string templates") {
  auto t = ChatTemplate::from_format("### Q: {prompt}\n### A:");
  CHECK(t->render_user_turn("2+2?") == "### Q: 2+2?\n### A:");
  auto s = ChatTemplate::from_format("[{system}] {{literal}} {prompt}");
  CHECK(s->render({{"system", "be brief"}, {"user", "hi"}}, true) == "[be brief] {literal} hi");
  CHECK(s->render_user_turn("hi") == "[] {literal} hi");
  CHECK_THROWS_AS(t->render({{"user", "a"}, {"assistant", "b"}, {"user", "c"}}, true), breadth::InvalidArgument);
  CHECK_THROWS_AS(ChatTemplate::from_format("no placeholder"), breadth::InvalidArgument);
  CHECK_THROWS_AS(ChatTemplate::from_format("{prompt} {other}"), breadth::InvalidArgument);
  CHECK_THROWS_AS(ChatTemplate::from_format("{prompt"), breadth::InvalidArgument);
  CHECK_THROWS_AS(ChatTemplate::from_format("{prompt} }"), breadth::InvalidArgument);
}

TEST_CASE("built-in chatml template and unknown names") {
  auto t = ChatTemplate::builtin("chatml");
  CHECK(t->render({{"system", "S"}, {"user", "U"}}, true) ==
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
  CHECK(t->render({{"user", "U"}}, false) == "<|im_start|>user\nU<|im_end|>\n");
  CHECK_THROWS_AS(ChatTemplate::builtin("vicuna"), breadth::InvalidArgument);
}

TEST_CASE("from_jinja: variables, undefined bos, and errors at load") {
  auto t = ChatTemplate::from_jinja("{{ bos_token is defined }}|{{ eos_token }}|{{ pad_token }}|{{ enable_thinking }}",
                                    "", "</s>", {{"pad_token", "<pad>"}});
  CHECK(t->render_user_turn("x") == "False|</s>|<pad>|False");
  CHECK_THROWS_AS(ChatTemplate::from_jinja("{% for m in messages %}", "", ""), breadth::FormatError);
  CHECK_THROWS_AS(ChatTemplate::from_jinja("{% include 'x' %}", "", ""), breadth::Unsupported);
  CHECK_THROWS_AS(ChatTemplate::from_jinja("{{ messages }}", "", "")->render({}, true), breadth::InvalidArgument);
}

TEST_CASE("a checkpoint template outside the Jinja subset is reported, not mistaken for a base model") {
  namespace files = breadth::files;
  const std::string dir =
      files::join(files::temp_dir(), "breadth_unsupported_tmpl_" + std::to_string(::getpid()));
  files::make_dirs(dir);
  const std::string qwen3 = breadth::test::shared_dir() + "/data/tokenizers/qwen3";
  files::copy_file(qwen3 + "/tokenizer.json", files::join(dir, "tokenizer.json"));
  // `wordwrap` is a Jinja built-in that breadth's subset does not implement.
  std::ofstream(files::join(dir, "tokenizer_config.json"))
      << R"({"chat_template": "{% for m in messages %}{{ m['content'] | wordwrap(20) }}{% endfor %}"})";
  auto tok = breadth::Tokenizer::load(dir);
  // Plain text still encodes as with the checkpoint's own configuration.
  CHECK(tok->encode("Hello world") == breadth::Tokenizer::load(qwen3)->encode("Hello world"));
  CHECK(tok->has_chat_template());
  CHECK(tok->chat_template_error().find("wordwrap") != std::string::npos);
  try {
    tok->chat_template();
    FAIL("chat_template() should throw");
  } catch (const breadth::Unsupported& e) {
    const std::string msg = e.what();
    CHECK(msg.find("wordwrap") != std::string::npos);
    CHECK(msg.find("apply_chat_template = false") != std::string::npos);
  }
  // A checkpoint with no template at all is a base model: nullptr, no error.
  files::remove_file(files::join(dir, "tokenizer_config.json"));
  auto base = breadth::Tokenizer::load(dir);
  CHECK(!base->has_chat_template());
  CHECK(base->chat_template() == nullptr);
  CHECK(breadth::test::remove_tree(dir));
}
