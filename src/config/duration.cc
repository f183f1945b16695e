// Duration strings: a sequence of <number><unit> parts, e.g. "1m30s".
//
// Our own files write "500ms", "30s", "5m", "1h". The reference exporter
// reads durations with Rust's humantime, so its files may also say "1min",
// "60sec", "30 s", "1m 30s", "2hours", "1d" or "1.5s"; both are accepted,
// with humantime's unit names and spacing. The value is computed exactly in
// nanoseconds and must come to a whole number of milliseconds.
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "config/config.h"

namespace klag::config {
namespace {

constexpr std::string_view kUnitHint =
    " (units: ms, s/sec, m/min, h/hr, d, w, e.g. \"30s\", \"1m30s\" or \"1min 30sec\")";

// __extension__: -Wpedantic would flag the GCC 128-bit integer otherwise.
__extension__ typedef __int128 Nanos;
constexpr Nanos kSecond = 1'000'000'000;
constexpr Nanos kDay = 86'400 * kSecond;
// Far above kMaxDuration, far below __int128's range: no product overflows.
constexpr Nanos kLimit = Nanos(1) << 100;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t'; }

// Nanoseconds per unit (humantime's names); 0 for an unknown unit. Units are
// case-sensitive, as in humantime: "M" is months, never minutes.
Nanos unit_nanos(std::string_view unit) {
  struct Unit {
    std::string_view names[6];
    Nanos nanos;
  };
  static constexpr Unit kUnits[] = {
      {{"ns", "nsec", "nanos"}, 1},
      {{"us", "usec", "micros"}, 1'000},
      {{"ms", "msec", "millis"}, 1'000'000},
      {{"s", "sec", "secs", "second", "seconds"}, kSecond},
      {{"m", "min", "mins", "minute", "minutes"}, 60 * kSecond},
      {{"h", "hr", "hrs", "hour", "hours"}, 3'600 * kSecond},
      {{"d", "day", "days"}, kDay},
      {{"w", "week", "weeks"}, 7 * kDay},
      // humantime's month and year: 30.44 and 365.25 days.
      {{"M", "month", "months"}, 2'630'016 * kSecond},
      {{"y", "year", "years"}, 31'557'600 * kSecond},
  };
  for (const Unit& u : kUnits) {
    for (std::string_view name : u.names) {
      if (!name.empty() && name == unit) return u.nanos;
    }
  }
  return 0;
}

// Digits as a number; nullopt when there are too many to be a sane value.
std::optional<Nanos> digits_value(std::string_view digits) {
  uint64_t value = 0;
  if (std::from_chars(digits.data(), digits.data() + digits.size(), value).ec != std::errc{}) return std::nullopt;
  return Nanos(value);
}

}  // namespace

std::expected<Duration, std::string> parse_duration(std::string_view text) {
  auto fail = [text](std::string_view why) {
    return std::unexpected("invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip_spaces();
  if (i == text.size()) return fail("empty" + std::string(kUnitHint));
  if (text[i] == '-') return fail("must not be negative");

  Nanos total = 0;
  while (i < text.size()) {
    const std::size_t number_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == number_start) {
      return fail("expected a number at \"" + std::string(text.substr(number_start)) + "\"");
    }
    const std::string_view whole = text.substr(number_start, i - number_start);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      const std::size_t fraction_start = ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
      fraction = text.substr(fraction_start, i - fraction_start);
      if (fraction.empty()) return fail("expected digits after \"" + std::string(whole) + ".\"");
    }
    const std::string_view number = text.substr(number_start, i - number_start);
    skip_spaces();
    const std::size_t unit_start = i;
    while (i < text.size() && is_letter(text[i])) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (i == text.size()) return fail("missing unit after " + std::string(number) + std::string(kUnitHint));
      return fail("unexpected \"" + std::string(text.substr(i)) + "\"" + std::string(kUnitHint));
    }
    const Nanos per_unit = unit_nanos(unit);
    if (per_unit == 0) return fail("unknown unit \"" + std::string(unit) + "\"" + std::string(kUnitHint));

    // Beyond 18 digits a value is absurd for a config and could overflow.
    auto value = digits_value(whole);
    if (!value || whole.size() > 19 || fraction.size() > 18) return fail("too large");
    Nanos part = *value * per_unit;
    if (!fraction.empty()) {
      Nanos scale = 1;
      for (std::size_t d = 0; d < fraction.size(); ++d) scale *= 10;
      const Nanos scaled = *digits_value(fraction) * per_unit;
      if (scaled % scale != 0) return fail("finer than a nanosecond");
      part += scaled / scale;
    }
    total += part;
    if (total > kLimit) return fail("too large");
    skip_spaces();
  }
  constexpr Nanos kMilli = 1'000'000;
  if (total % kMilli != 0) return fail("finer than a millisecond, the smallest step here");
  const Nanos millis = total / kMilli;
  if (millis > Nanos(std::numeric_limits<int64_t>::max())) return fail("too large");
  return Duration(static_cast<int64_t>(millis));
}

}  // namespace klag::config
