// The [exporter] table and its sub-tables.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <limits>

#include "config/reader.h"

namespace klag::config::detail {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr buffer{};
  return inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

void parse_timestamp_sampling(Context& ctx, const toml::table& table, std::string path,
                              TimestampSampling& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown({"enabled", "cache_ttl", "max_concurrent_fetches", "fetch_timeout"});
  r.read_bool("enabled", out.enabled);
  r.read_duration("cache_ttl", out.cache_ttl);
  r.read_int("max_concurrent_fetches", 1, std::numeric_limits<int>::max(),
             out.max_concurrent_fetches);
  r.read_duration("fetch_timeout", out.fetch_timeout);
}

void parse_otel(Context& ctx, const toml::table& table, std::string path, Otel& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown({"enabled", "endpoint", "export_interval"});
  r.read_bool("enabled", out.enabled);
  r.read_string("endpoint", out.endpoint);
  r.read_duration("export_interval", out.export_interval);
  if (!ctx.failed() && out.enabled) {
    ctx.fail(r.path("enabled"), r.line("enabled"),
             "OTLP export is not implemented yet in this version");
  }
}

void parse_leadership(Context& ctx, const toml::table& table, std::string path, Leadership& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown({"enabled", "provider", "lease_name", "lease_namespace", "identity",
                    "lease_duration_secs", "grace_period_secs"});
  r.read_bool("enabled", out.enabled);
  r.read_string("provider", out.provider);
  if (!ctx.failed() && out.provider != "kafka" && out.provider != "kubernetes") {
    ctx.fail(r.path("provider"), r.line("provider"),
             "must be \"kafka\" or \"kubernetes\", got " + quote(out.provider));
  }
  r.read_string("lease_name", out.lease_name);
  r.read_string("lease_namespace", out.lease_namespace);
  r.read_string("identity", out.identity);
  // The reference reads these as u32.
  constexpr int64_t kMaxSecs = std::numeric_limits<uint32_t>::max();
  r.read_int("lease_duration_secs", int64_t{1}, kMaxSecs, out.lease_duration_secs);
  r.read_int("grace_period_secs", int64_t{1}, kMaxSecs, out.grace_period_secs);
  if (!ctx.failed() && out.enabled) {
    ctx.fail(r.path("enabled"), r.line("enabled"),
             "high availability is not implemented yet in this version");
  }
}

}  // namespace

void parse_exporter(Context& ctx, const toml::table& table, Exporter& out) {
  TableReader r(ctx, table, "exporter");
  r.reject_unknown({"poll_interval", "http_port", "http_host", "granularity", "member_labels",
                    "cycle_timeout", "max_staleness", "timestamp_sampling", "otel", "leadership"});
  r.read_duration("poll_interval", out.poll_interval);
  r.read_int("http_port", uint16_t{0}, std::numeric_limits<uint16_t>::max(), out.http_port);

  r.read_string("http_host", out.http_host);
  if (!ctx.failed() && !is_ip_literal(out.http_host)) {
    ctx.fail(r.path("http_host"), r.line("http_host"),
             "must be an IPv4 or IPv6 address literal such as \"0.0.0.0\" or \"::\", got " +
                 quote(out.http_host));
  }

  std::string granularity;
  r.read_string("granularity", granularity);
  if (granularity == "topic") {
    out.granularity = Granularity::topic;
  } else if (granularity == "partition") {
    out.granularity = Granularity::partition;
  } else if (!ctx.failed() && r.has("granularity")) {
    ctx.fail(r.path("granularity"), r.line("granularity"),
             "must be \"topic\" or \"partition\", got " + quote(granularity));
  }

  r.read_bool("member_labels", out.member_labels);
  r.read_duration("cycle_timeout", out.cycle_timeout);
  r.read_duration("max_staleness", out.max_staleness);

  if (const toml::table* sub = r.read_table("timestamp_sampling")) {
    parse_timestamp_sampling(ctx, *sub, r.path("timestamp_sampling"), out.timestamp_sampling);
  }
  if (const toml::table* sub = r.read_table("otel")) {
    parse_otel(ctx, *sub, r.path("otel"), out.otel);
  }
  if (const toml::table* sub = r.read_table("leadership")) {
    parse_leadership(ctx, *sub, r.path("leadership"), out.leadership);
  }
}

}  // namespace klag::config::detail
