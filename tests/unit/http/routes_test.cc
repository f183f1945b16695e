// /metrics over a real SnapshotStore: gzip for Prometheus, the plain text
// shared when small and streamed (inflated piece by piece) when large.
#include "http/routes.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "lag/compute.h"
#include "metrics/gzip.h"

namespace klag::http {
namespace {

collect::ClusterStatus cluster_with(int partitions) {
  lag::ClusterSample s;
  for (int p = 0; p < partitions; ++p) {
    s.partitions.push_back({"topic", p, 0, 100, 100});
    s.committed.push_back({"group", "topic", p, p % 100});
  }
  collect::ClusterStatus c;
  c.name = "c";
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 0));
  return c;
}

Request get(std::string path, bool gzip) {
  Request r;
  r.method = "GET";
  r.target = r.path = std::move(path);
  if (gzip) r.headers.emplace_back("accept-encoding", "gzip");
  return r;
}

std::string drain(BodyStream& stream) {
  std::string out;
  for (std::string_view piece = stream.next(); !piece.empty(); piece = stream.next()) out += piece;
  return out;
}

TEST(MetricsRoute, GzipForScrapersPlainTextSharedWhenSmallStreamedWhenLarge) {
  for (int partitions : {50, 20'000}) {
    metrics::SnapshotStore store({cluster_with(partitions)});
    const Handler handler = make_routes(store, std::chrono::seconds(60), nullptr);
    const std::string text = *store.current()->metrics_text();
    const bool large = text.size() > metrics::Snapshot::kSharedTextBytes;
    EXPECT_EQ(large, partitions == 20'000) << text.size() << " bytes";

    Response gz = handler(get("/metrics", true));
    ASSERT_NE(gz.body, nullptr);
    EXPECT_EQ(gz.stream, nullptr);
    EXPECT_EQ(metrics::gzip_decompress(*gz.body), text);

    Response plain = handler(get("/metrics", false));
    EXPECT_EQ(plain.status, 200);
    if (large) {
      ASSERT_EQ(plain.body, nullptr);
      ASSERT_NE(plain.stream, nullptr);
      EXPECT_EQ(plain.stream->size(), text.size());
      EXPECT_EQ(drain(*plain.stream), text);
    } else {
      ASSERT_EQ(plain.stream, nullptr);
      ASSERT_NE(plain.body, nullptr);
      EXPECT_EQ(*plain.body, text);
      EXPECT_EQ(plain.body, handler(get("/metrics", false)).body) << "small text inflated once, then shared";
    }
  }
}

TEST(ReadyRoute, ServiceUnavailableUntilSomeClusterAnswered) {
  collect::ClusterStatus c;
  c.name = "c";
  metrics::SnapshotStore store({c});
  const Handler handler = make_routes(store, std::chrono::seconds(60), nullptr);
  Response r = handler(get("/ready", false));
  EXPECT_EQ(r.status, 503);
  ASSERT_NE(r.body, nullptr);
  EXPECT_EQ(*r.body, "not ready: first cycle not finished for: c\n");

  // The first cycle failed: the loop runs, but there is nothing to serve.
  c.first_cycle_done = true;
  c.cycles = c.failed_cycles = 1;
  c.last_error = "list_groups: Local: Broker transport failure";
  store.publish(c);
  r = handler(get("/ready", false));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(*r.body, "not ready: no cluster has answered yet (c: list_groups: Local: Broker transport failure)\n");
  // Liveness is another matter: the loop is alive.
  EXPECT_EQ(handler(get("/health", false)).status, 200);

  c.cycles = 2;
  c.up = true;
  c.last_error.clear();
  c.last_success_unix_seconds = 1700000000;
  store.publish(c);
  r = handler(get("/ready", false));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*r.body, "ready\n");

  // Down again later: still ready, serving the last data as stale.
  c.up = false;
  c.cycles = 3;
  c.failed_cycles = 2;
  c.last_error = "metadata: timed out";
  store.publish(c);
  EXPECT_EQ(handler(get("/ready", false)).status, 200);
}

}  // namespace
}  // namespace klag::http
