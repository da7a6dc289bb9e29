// Helpers shared by the chat tests: reading fixture JSON, JSON -> Jinja values, rendering snippets.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/fixture_json.hpp"
#include "chat/jinja_interpreter.hpp"
#include "chat/jinja_parser.hpp"

namespace breadth::test {

inline jinja::Value to_value(const nlohmann::ordered_json& j) {
  using jinja::Value;
  if (j.is_null()) return Value(jinja::None{});
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number_float()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_array()) {
    std::vector<Value> items;
    for (const auto& e : j) items.push_back(to_value(e));
    return Value::list(std::move(items));
  }
  jinja::Dict d;
  for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_value(it.value()));
  return Value(std::move(d));
}

/// Renders `source` with the variables of the JSON object `context`.
inline std::string render_jinja(const std::string& source, const nlohmann::ordered_json& context = nlohmann::ordered_json::object(),
                                jinja::RenderLimits limits = {}) {
  const jinja::Program p = jinja::parse(source);
  jinja::Value ctx = to_value(context);
  jinja::Interpreter in(limits);
  return in.render(p, ctx.as_dict());
}

}  // namespace breadth::test
