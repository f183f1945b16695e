// ${VAR} / ${VAR:-default} / ${?VAR} substitution in string values.
#include <cstdlib>
#include <string>

#include "config/config.h"

namespace klag::config {
namespace {

bool is_valid_variable_name(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name.front())) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::expected<std::string, std::string> substitute_env(std::string_view text,
                                                       const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c != '$' || (next != '$' && next != '{')) {
      // A '$' not followed by '$' or '{' is an ordinary character.
      out += c;
      ++i;
      continue;
    }
    if (next == '$') {
      out += '$';
      i += 2;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return std::unexpected("unterminated \"" + std::string(text.substr(i)) +
                             "\" (missing \"}\"; write \"$${\" for a literal \"${\")");
    }
    const std::string_view reference = text.substr(i, close + 1 - i);
    std::string_view inner = text.substr(i + 2, close - i - 2);
    // ${?VAR}: the reference's way to say a variable may be unset (then "").
    const bool optional = inner.starts_with('?');
    if (optional) inner.remove_prefix(1);
    const std::size_t separator = inner.find(":-");
    const std::string name(inner.substr(0, separator));
    if (!is_valid_variable_name(name)) {
      return std::unexpected("invalid environment variable name \"" + name + "\" in \"" +
                             std::string(reference) + "\"");
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (separator != std::string_view::npos) {
      // Shell semantics: ":-" also replaces a variable that is set but empty.
      if (!value || value->empty()) value = std::string(inner.substr(separator + 2));
    } else if (!value && !optional) {
      return std::unexpected("environment variable " + name + " is not set");
    }
    if (value) out += *value;
    i = close + 1;
  }
  return out;
}

}  // namespace klag::config
