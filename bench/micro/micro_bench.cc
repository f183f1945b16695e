// Microbenchmarks of the per-cycle CPU work that does not wait on Kafka:
// lag::compute, rendering the exposition, and gzip of the rendered text,
// over synthetic estates of the bench sizes (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <string>

#include "collect/status.h"
#include "lag/compute.h"
#include "metrics/gzip.h"
#include "metrics/render.h"

namespace {

using namespace klag;

// `topics` x `partitions` partitions; `groups` groups, each committed on
// every partition of `topics_per_group` topics, with one timestamp read per
// group partition. Names look like real ones (about 30 characters).
lag::ClusterSample estate(int topics, int partitions, int groups, int topics_per_group) {
  lag::ClusterSample s;
  s.timestamps_enabled = true;
  auto topic = [](int t) { return "orders.events.region-" + std::to_string(t); };
  for (int t = 0; t < topics; ++t) {
    for (int p = 0; p < partitions; ++p) s.partitions.push_back({topic(t), p, 100, 100000, 100000});
  }
  for (int g = 0; g < groups; ++g) {
    const std::string id = "service-consumer-group-" + std::to_string(g);
    s.groups.push_back({.id = id, .state = "Stable", .assignor = "range", .described = true});
    for (int k = 0; k < topics_per_group; ++k) {
      const int t = (g * topics_per_group + k) % topics;
      for (int p = 0; p < partitions; ++p) {
        const int64_t committed = 99000 + (g + p) % 1000;
        s.committed.push_back({id, topic(t), p, committed});
        s.timestamps.push_back({topic(t), p, committed, 1'700'000'000'000, committed});
      }
    }
  }
  return s;
}

collect::ClusterStatus status_of(const lag::ClusterSample& s) {
  collect::ClusterStatus c;
  c.name = "production";
  c.first_cycle_done = true;
  c.up = true;
  c.sampling_enabled = true;
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 1'700'000'100'000));
  return c;
}

// Args: topics, partitions per topic, groups, topics per group.
void Compute(benchmark::State& state) {
  const auto s = estate(state.range(0), state.range(1), state.range(2), state.range(3));
  for (auto _ : state) benchmark::DoNotOptimize(lag::compute(s, 1'700'000'100'000));
  state.counters["group_partitions"] = static_cast<double>(s.committed.size());
}

void Render(benchmark::State& state) {
  const std::vector<collect::ClusterStatus> clusters{
      status_of(estate(state.range(0), state.range(1), state.range(2), state.range(3)))};
  size_t bytes = 0;
  for (auto _ : state) {
    auto text = metrics::render_prometheus(clusters);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// What a publication costs: rendering straight into gzip at level 1, as
// the snapshot does.
void RenderGzip(benchmark::State& state) {
  const std::vector<collect::ClusterStatus> clusters{
      status_of(estate(state.range(0), state.range(1), state.range(2), state.range(3)))};
  size_t bytes = 0;
  for (auto _ : state) {
    auto gz = metrics::render_prometheus_gzip(clusters, {}, 1);
    bytes = gz.gzip.size();
    benchmark::DoNotOptimize(gz);
  }
  state.counters["gzip_bytes"] = static_cast<double>(bytes);
}

// Args: the estate, then the zlib level (the snapshot uses 1).
void Gzip(benchmark::State& state) {
  const std::vector<collect::ClusterStatus> clusters{
      status_of(estate(state.range(0), state.range(1), state.range(2), state.range(3)))};
  const std::string text = metrics::render_prometheus(clusters);
  const int level = static_cast<int>(state.range(4));
  size_t out = 0;
  for (auto _ : state) {
    auto gz = metrics::gzip_compress(text, level);
    out = gz.size();
    benchmark::DoNotOptimize(gz);
  }
  state.counters["ratio"] = static_cast<double>(text.size()) / static_cast<double>(out);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// small: 10 x 10 partitions, 20 groups; medium: 100 x 20, 400 groups;
// large: 2,000 x 10, 4,000 groups; one topic per group.
#define KLAG_SIZES Args({10, 10, 20, 1})->Args({100, 20, 400, 1})->Args({2000, 10, 4000, 1})->Unit(benchmark::kMillisecond)
BENCHMARK(Compute)->KLAG_SIZES;
BENCHMARK(Render)->KLAG_SIZES;
BENCHMARK(RenderGzip)->KLAG_SIZES;
BENCHMARK(Gzip)
    ->ArgsProduct({{10}, {10}, {20}, {1}, {1, 5}})
    ->ArgsProduct({{100}, {20}, {400}, {1}, {1, 5}})
    ->ArgsProduct({{2000}, {10}, {4000}, {1}, {1, 5}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
