#include "config/filter.h"

#include <re2/re2.h>

#include <utility>

namespace klag::config {
namespace {

RE2::Options quiet_options() {
  RE2::Options options;
  // Errors are returned to the caller; RE2 must not also log them to stderr.
  options.set_log_errors(false);
  return options;
}

// One RE2 for the whole list: a single pass per name instead of one per pattern.
std::expected<std::shared_ptr<const re2::RE2>, std::string> compile_list(
    const std::vector<std::string>& patterns) {
  if (patterns.empty()) return nullptr;
  std::string combined;
  for (const std::string& pattern : patterns) {
    // Checked alone first so the error names the offending pattern; a valid
    // pattern has balanced groups, so wrapping it in (?:...) is safe.
    RE2 single(pattern, quiet_options());
    if (!single.ok()) {
      return std::unexpected("invalid regular expression \"" + pattern + "\": " + single.error());
    }
    if (!combined.empty()) combined += '|';
    combined += "(?:" + pattern + ")";
  }
  auto regex = std::make_shared<const RE2>(combined, quiet_options());
  if (!regex->ok()) {
    return std::unexpected("cannot compile the patterns together: " + regex->error());
  }
  return regex;
}

}  // namespace

NameFilter::NameFilter(std::shared_ptr<const re2::RE2> allow, std::shared_ptr<const re2::RE2> deny)
    : allow_(std::move(allow)), deny_(std::move(deny)) {}

std::expected<NameFilter, std::string> NameFilter::create(const std::vector<std::string>& allow,
                                                          const std::vector<std::string>& deny) {
  auto allow_regex = compile_list(allow);
  if (!allow_regex) return std::unexpected(allow_regex.error());
  auto deny_regex = compile_list(deny);
  if (!deny_regex) return std::unexpected(deny_regex.error());
  return NameFilter(std::move(*allow_regex), std::move(*deny_regex));
}

bool NameFilter::matches(std::string_view name) const {
  // RE2 matching through a const object is thread-safe.
  if (allow_ == nullptr || !RE2::FullMatch(name, *allow_)) return false;
  return deny_ == nullptr || !RE2::FullMatch(name, *deny_);
}

}  // namespace klag::config
