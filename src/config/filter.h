// Allow/deny name filter for consumer groups and topics.
//
// Patterns are RE2 regexes anchored to the whole name (unlike the reference
// exporter, which matches substrings): "orders" matches only "orders", and
// "orders.*" matches "orders-v2". A name passes when it fully matches at least
// one allow pattern and no deny pattern. Immutable; matches() is safe to call
// from any thread concurrently.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace klag::config {

class NameFilter {
 public:
  // Fails with a message naming the first invalid pattern and RE2's reason.
  static std::expected<NameFilter, std::string> create(const std::vector<std::string>& allow,
                                                       const std::vector<std::string>& deny);

  bool matches(std::string_view name) const;

 private:
  NameFilter(std::shared_ptr<const re2::RE2> allow, std::shared_ptr<const re2::RE2> deny);
  // Each list is compiled into one alternation; null means "no patterns".
  std::shared_ptr<const re2::RE2> allow_;
  std::shared_ptr<const re2::RE2> deny_;
};

}  // namespace klag::config
