// Duration strings: a sequence of <integer><unit> parts, e.g. "1m30s".
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "config/config.h"

namespace klag::config {
namespace {

constexpr std::string_view kUnitHint = " (use ms, s, m or h, e.g. \"30s\" or \"1m30s\")";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Milliseconds per unit; 0 for an unknown unit. Units are case-sensitive so
// that "M" (often months) is not silently read as minutes.
int64_t unit_millis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 60 * 60 * 1000;
  return 0;
}

}  // namespace

std::expected<Duration, std::string> parse_duration(std::string_view text) {
  auto fail = [text](std::string_view why) {
    return std::unexpected("invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  if (text.empty()) return fail("empty" + std::string(kUnitHint));
  if (text.front() == '-') return fail("must not be negative");

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t number_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == number_start) {
      return fail("expected a number at \"" + std::string(text.substr(number_start)) + "\"");
    }
    const std::string_view digits = text.substr(number_start, i - number_start);
    int64_t value = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), value).ec != std::errc{}) {
      return fail("too large");
    }
    if (i < text.size() && text[i] == '.') {
      return fail("fractions are not supported (use a smaller unit, e.g. \"1500ms\")");
    }
    const std::size_t unit_start = i;
    while (i < text.size() && is_letter(text[i])) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (i == text.size())
        return fail("missing unit after " + std::string(digits) + std::string(kUnitHint));
      return fail("unexpected \"" + std::string(text.substr(i)) + "\"" + std::string(kUnitHint));
    }
    const int64_t millis = unit_millis(unit);
    if (millis == 0)
      return fail("unknown unit \"" + std::string(unit) + "\"" + std::string(kUnitHint));
    if (value > (kMax - total) / millis) return fail("too large");
    total += value * millis;
  }
  return Duration(total);
}

}  // namespace klag::config
