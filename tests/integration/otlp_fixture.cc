// Writes one OTLP export request and the Prometheus text of the same fixed
// snapshot, so test_otlp_official.py can decode the request with the
// official opentelemetry-proto definitions and compare the two.
#include <fstream>
#include <iostream>

#include "lag/compute.h"
#include "metrics/render.h"
#include "otlp/encode.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: klag-otlp-fixture OUT_DIR\n";
    return 2;
  }
  using namespace klag;
  lag::ClusterSample s;
  s.partitions = {{"orders", 0, 0, 100, 90}, {"orders", 1, 50, 120, 120}};
  s.groups = {lag::Group{.id = "live",
                         .state = "Stable",
                         .assignor = "range",
                         .described = true,
                         .members = {lag::Member{.client_id = "c1", .consumer_id = "m1", .host = "/10.0.0.1",
                                                 .assignment = {{"orders", 0}}}}}};
  s.committed = {{"live", "orders", 0, 40}, {"live", "orders", 1, 20}};
  s.timestamps_enabled = true;
  s.timestamps = {{"orders", 0, 40, 1'700'000'000'000, 40}, {"orders", 1, 50, 1'700'000'010'000, 55}};
  s.compacted_topics = {"orders"};
  collect::ClusterStatus c;
  c.name = "prod";
  c.labels = {{"env", "production"}};
  c.first_cycle_done = true;
  c.up = true;
  c.cycles = 12;
  c.failed_cycles = 2;
  c.sampling_enabled = true;
  c.timestamp_reads_total = 5;
  c.last_success_unix_seconds = 1'700'000'042.5;
  c.last_cycle_seconds = 0.25;
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 1'700'000'042'500));
  const std::vector<collect::ClusterStatus> clusters{c};

  const auto req = otlp::encode_metrics(clusters, otlp::resource_attributes("9.9.9", "fixture-1", "team=kafka"),
                                        {.start_unix_nano = 1'699'999'000'000'000'000, .now_unix_nano = 1'700'000'043'000'000'000});
  const std::string dir = argv[1];
  std::ofstream(dir + "/request.bin", std::ios::binary) << req.SerializeAsString();
  std::ofstream(dir + "/metrics.txt") << metrics::render_prometheus(clusters);
  return 0;
}
