// Rule names and the "NAME[:GAMMA]" parser, with BACO's "-X-Y" cascade notation.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

#include "baco/rule_util.hpp"
#include "core/check.hpp"

namespace breadth {
namespace {

struct Entry {
  RuleFactory factory;
  bool takes_gamma = true;
  bool builtin = false;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry> rules;
  Registry() {
    auto add = [this](const char* n, RuleFactory f, bool g) { rules[n] = {std::move(f), g, true}; };
    add("rand", rand_rule, true);
    add("p", p_rule, true);
    add("p-a", p_a_rule, true);
    add("h", h_rule, true);
    add("h-a", h_a_rule, true);
    add("pr", pr_rule, true);
    add("hr", hr_rule, true);
    add("punc", [](double) { return punc_rule(); }, false);
    add("fc", [](double) { return fc_rule(); }, false);
    add("aligned", [](double) { return constant_rule(BacoChoice::kAligned); }, false);
    add("base", [](double) { return constant_rule(BacoChoice::kBase); }, false);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string known_names() {
  auto names = rule_names();
  std::string s;
  for (auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

/// A rule for `name` (a registered name or an X-Y composition); nullopt when it does not resolve.
/// `gamma_used` is set when a stage took the threshold. A missing threshold is reported as one to
/// write into the spec, or, when the caller gives it apart, as the option `gamma_option` to give.
std::optional<RulePtr> resolve(const std::string& name, std::optional<double> gamma,
                               bool& gamma_used, std::map<std::string, Entry>& rules,
                               std::string_view gamma_option) {
  if (auto it = rules.find(name); it != rules.end()) {
    if (it->second.takes_gamma) {
      if (!gamma && !gamma_option.empty())
        fail("rule '{}' needs a threshold: give {} (e.g. {} {})", name, gamma_option, gamma_option, kDefaultGamma);
      BREADTH_CHECK_ARG(gamma.has_value(),
                        "rule '{}' needs a threshold: write '{}:GAMMA' (e.g. '{}:0.3')", name, name,
                        name);
      baco::check_gamma(*gamma, name);
      gamma_used = true;
    }
    auto rule = it->second.factory(gamma.value_or(0.0));
    BREADTH_CHECK_ARG(rule != nullptr, "rule factory for '{}' returned no rule", name);
    return rule;
  }
  // "X-Y" checks Y first and falls back to X; Y is one registered name, X may be composed again.
  for (size_t cut = name.rfind('-'); cut != std::string::npos && cut > 0;
       cut = name.rfind('-', cut - 1)) {
    auto head = name.substr(0, cut), tail = name.substr(cut + 1);
    if (!rules.count(tail)) continue;
    bool used_head = false, used_tail = false;
    auto first = resolve(tail, gamma, used_tail, rules, gamma_option);
    auto rest = resolve(head, gamma, used_head, rules, gamma_option);
    if (first && rest) {
      gamma_used = used_head || used_tail;
      return cascade({*first, *rest}, name + (gamma_used ? baco::gamma_suffix(*gamma) : ""));
    }
    if (cut == 0) break;
  }
  return std::nullopt;
}

RulePtr build(const std::string& name, std::optional<double> gamma, const std::string& spec,
              std::string_view gamma_option = {}) {
  BREADTH_CHECK_ARG(!name.empty(), "rule spec '{}' has no name; known rules: {}", spec,
                    known_names());
  auto& r = registry();
  std::map<std::string, Entry> rules;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    rules = r.rules;  // factories run unlocked (a user factory may call make_rule)
  }
  bool used = false;
  auto rule = resolve(name, gamma, used, rules, gamma_option);
  BREADTH_CHECK_ARG(rule.has_value(), "unknown BACO rule '{}' in '{}'; known rules: {} (and "
                    "'X-Y' cascades of them)", name, spec, known_names());
  BREADTH_CHECK_ARG(!gamma || used, "rule '{}' takes no threshold; drop ':{}' from '{}'", name,
                    *gamma, spec);
  return *rule;
}

}  // namespace

void register_rule(const std::string& name, RuleFactory factory, bool takes_gamma) {
  BREADTH_CHECK_ARG(!name.empty() && std::all_of(name.begin(), name.end(),
                                                 [](unsigned char c) {
                                                   return std::isalnum(c) || c == '_';
                                                 }),
                    "register_rule: name '{}' must be letters, digits and '_' ('-' composes "
                    "cascades)", name);
  BREADTH_CHECK_ARG(static_cast<bool>(factory), "register_rule '{}': the factory is empty", name);
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.rules.find(name);
  BREADTH_CHECK_ARG(it == r.rules.end() || !it->second.builtin,
                    "register_rule: '{}' is a built-in rule; choose another name", name);
  r.rules[name] = {std::move(factory), takes_gamma, false};
}

std::vector<std::string> rule_names() {
  auto& r = registry();
  std::vector<std::string> out;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (auto& [n, e] : r.rules) out.push_back(n);
  }
  for (const char* c : {"p-punc", "p-fc", "h-punc", "h-fc"}) out.push_back(c);
  std::sort(out.begin(), out.end());
  return out;
}

RulePtr make_rule(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos) return build(spec, std::nullopt, spec);
  auto g = spec.substr(colon + 1);
  char* end = nullptr;
  double gamma = std::strtod(g.c_str(), &end);
  BREADTH_CHECK_ARG(!g.empty() && end == g.c_str() + g.size() && std::isfinite(gamma),
                    "rule spec '{}': threshold '{}' is not a number (write NAME:GAMMA, e.g. "
                    "p-punc:0.3)", spec, g);
  return build(spec.substr(0, colon), gamma, spec);
}

RulePtr make_rule(const std::string& name, double gamma) {
  BREADTH_CHECK_ARG(name.find(':') == std::string::npos,
                    "make_rule(name, gamma): name '{}' already has a threshold", name);
  return build(name, gamma, name);
}

RulePtr make_rule(const std::string& spec, std::optional<double> gamma, std::string_view gamma_option) {
  if (gamma) {
    BREADTH_CHECK_ARG(spec.find(':') == std::string::npos,
                      "give the threshold once: rule '{}' already has one, drop {} or the ':GAMMA'", spec,
                      gamma_option);
    return make_rule(spec, *gamma);
  }
  // Without ':GAMMA' the threshold could only have come from the option: a missing one names it.
  if (spec.find(':') == std::string::npos) return build(spec, std::nullopt, spec, gamma_option);
  return make_rule(spec);
}

std::string default_rule_spec() { return fmt::format("{}:{}", kDefaultRule, kDefaultGamma); }

}  // namespace breadth
