// Keys of the reference exporter (softwaremill/klag-exporter) that are not
// part of our own schema. A reference config must run unchanged, so each is
// accepted: honoured where it means something here, otherwise checked for
// its type and reported by one warning that says what we do instead. Keys
// neither schema knows stay errors, to catch typos.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/reader.h"

namespace klag::config::detail {
namespace {

// [exporter.performance] tunes the reference's thread pools, caches and
// per-request timeouts; our collection is shaped differently, so none of
// it applies. The value type is checked all the same (as the reference
// does), so that a config we accept is one the reference accepts too.
enum class Kind { duration, count };

struct IgnoredKey {
  std::string_view key;
  Kind kind;
  std::string_view instead;  // what we do instead, for the warning
};

constexpr IgnoredKey kPerformanceKeys[] = {
    {"kafka_timeout", Kind::duration,
     "each step of a cycle gets a share of exporter.cycle_timeout (default: poll_interval) instead"},
    {"offset_fetch_timeout", Kind::duration,
     "committed offsets get half of the time left in exporter.cycle_timeout instead"},
    {"group_fetch_retries", Kind::count,
     "a group whose request fails is not retried within the cycle: its last offsets are carried forward (up to "
     "exporter.max_staleness) and the next cycle asks again"},
    {"max_concurrent_groups", Kind::count,
     "the committed offsets of all groups are requested at once, bounded by exporter.cycle_timeout"},
    {"max_concurrent_watermarks", Kind::count,
     "watermarks are read per partition leader, at most 250 partitions per request and 4 requests in flight"},
    {"client_recycle_interval", Kind::count,
     "the admin client is replaced after any cycle that left requests unanswered, not every N cycles"},
    {"max_blocking_threads", Kind::count, "there is no blocking-thread pool: one collection thread runs per cluster"},
    {"compacted_topics_cache_ttl", Kind::duration,
     "a topic's cleanup.policy is read only when a record comes back later than asked, and cached for 10 minutes"},
    {"metadata_cache_ttl", Kind::duration, "topic metadata is read every cycle"},
    {"consumer_groups_cache_ttl", Kind::duration, "consumer groups are listed every cycle"},
};

// True when the key is present and of the right type (an error otherwise).
bool check_kind(TableReader& r, const IgnoredKey& k) {
  if (k.kind == Kind::duration) {
    Duration unused{};
    return r.read_duration_or_zero(k.key, unused);
  }
  int64_t unused = 0;  // the reference reads these as unsigned integers
  return r.read_int(k.key, int64_t{0}, std::numeric_limits<int64_t>::max(), unused);
}

void parse_performance(Context& ctx, const toml::table& table, std::string path) {
  TableReader r(ctx, table, std::move(path));
  std::vector<std::string_view> known;
  for (const IgnoredKey& k : kPerformanceKeys) known.push_back(k.key);
  r.reject_unknown(known);
  for (const IgnoredKey& k : kPerformanceKeys) {
    if (check_kind(r, k)) r.warn(k.key, "ignored: " + std::string(k.instead));
  }
}

}  // namespace

void parse_reference_exporter_keys(Context& ctx, TableReader& r, Exporter& out) {
  // The reference's name for max_staleness: same meaning (how long a cluster
  // that stopped answering keeps its last data in /metrics), so honoured.
  std::optional<Duration> threshold;
  if (r.read_duration("staleness_threshold", threshold)) {
    if (r.has("max_staleness")) {
      r.fail("staleness_threshold",
             "is the reference's name for max_staleness, which is also set; keep one of the two");
    } else {
      out.max_staleness = threshold;
    }
  }
  if (const toml::table* performance = r.read_table("performance")) {
    parse_performance(ctx, *performance, r.path("performance"));
  }
}

void parse_reference_sampling_keys(TableReader& r) {
  // The reference estimates time lag from the produce rate by default
  // ("rate") and reads the record at the committed offset on request
  // ("message"). We always read the record: exact, and batched so that it
  // scales (docs/design.md, step 6).
  bool rate_mode = false;
  std::string mode;
  if (r.read_string("mode", mode)) {
    if (mode == "rate") {
      rate_mode = true;
      r.warn("mode",
             "\"rate\" (time lag estimated from the produce rate) is not implemented; time lag is read from the "
             "record at the committed offset, as with \"message\"");
    } else if (mode != "message") {
      r.fail("mode", "must be \"rate\" or \"message\", got " + quote(mode));
    }
  }

  bool skip = false;
  if (r.read_bool("skip_data_loss_partitions", skip) && skip) {
    r.warn("skip_data_loss_partitions",
           "ignored: when retention deleted the committed record, the oldest surviving record is still read (in "
           "the same batch, bounded by fetch_timeout, so it cannot stall the cycle); lag_seconds then shows its "
           "age with data_loss_detected=\"true\"");
  }

  // One warning per key; the mode's own warning already says rate mode is missing.
  const std::string rate_only =
      std::string("ignored: ") + (rate_mode ? "" : "only used by mode \"rate\"; ") +
      "time lag is read from the record at the committed offset, not estimated from a rate history";
  int64_t samples = 0;
  if (r.read_int("rate_history_samples", int64_t{0}, std::numeric_limits<int64_t>::max(), samples)) {
    r.warn("rate_history_samples", rate_only);
  }
  Duration max_age{};
  if (r.read_duration_or_zero("rate_history_max_age", max_age)) r.warn("rate_history_max_age", rate_only);
  double min_rate = 0;
  if (r.read_number("rate_min_msgs_per_sec", min_rate)) {
    if (min_rate < 0) {
      r.fail("rate_min_msgs_per_sec", "must not be negative");
    } else {
      r.warn("rate_min_msgs_per_sec", rate_only);
    }
  }
}

}  // namespace klag::config::detail
