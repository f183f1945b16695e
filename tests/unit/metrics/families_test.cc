#include "metrics/families.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "lag/compute.h"
#include "metrics/render.h"

namespace klag::metrics {
namespace {

// Records what a sink sees, to check the walk's contract independently of
// the text format.
class RecordingSink final : public SeriesSink {
 public:
  void family(const Family& f) override {
    ++families;
    current = f.name;
    types[current] = f.type;
  }
  void begin_series() override {
    EXPECT_FALSE(open) << "value() missing before the next series of " << current;
    open = true;
    labels.clear();
  }
  void label(std::string_view name, std::string_view) override { labels.emplace_back(name); }
  void label(std::string_view name, int64_t) override { labels.emplace_back(name); }
  void value(int64_t) override { end(); }
  void value(double) override { end(); }

  int families = 0;
  int series = 0;
  bool open = false;
  std::string current;
  std::vector<std::string> labels;
  std::map<std::string, MetricType> types;
  std::map<std::string, std::set<std::vector<std::string>>> label_sets;

 private:
  void end() {
    EXPECT_TRUE(open);
    open = false;
    ++series;
    label_sets[current].insert(labels);
  }
};

collect::ClusterStatus cluster() {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 0, 10, 10}};
  s.committed = {{"g", "t", 0, 4}};
  s.timestamps_enabled = true;
  s.timestamps = {{"t", 0, 4, 1000, 4}};
  collect::ClusterStatus c;
  c.name = "c";
  c.labels = {{"env", "x"}};
  c.first_cycle_done = true;
  c.up = true;
  c.sampling_enabled = true;
  c.last_success_unix_seconds = 5;
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 5000));
  return c;
}

TEST(Families, EverySeriesOfAFamilyHasOneLabelSetAndCustomLabelsLast) {
  RecordingSink sink;
  emit_metrics({cluster()}, sink);
  EXPECT_FALSE(sink.open);
  for (const auto& [family, sets] : sink.label_sets) {
    if (family == "kafka_lag_exporter_up") {
      EXPECT_EQ(sets.size(), 2u);  // the unlabelled one and the cluster's
      continue;
    }
    EXPECT_EQ(sets.size(), 1u) << family;
    const auto& labels = *sets.begin();
    ASSERT_GE(labels.size(), 2u) << family;
    EXPECT_EQ(labels.front(), "cluster_name") << family;
    EXPECT_EQ(labels.back(), "env") << family;
  }
}

TEST(Families, CountersAreNamedTotalAndTheTextHasOneLinePerSeries) {
  RecordingSink sink;
  emit_metrics({cluster()}, sink);
  for (const auto& [name, type] : sink.types) {
    if (type == MetricType::counter) {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
  }
  const std::string text = render_prometheus({cluster()});
  int lines = 0;
  int comments = 0;
  for (size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) {
    (text[pos] == '#' ? comments : lines)++;
  }
  EXPECT_EQ(lines, sink.series);
  EXPECT_EQ(comments, 2 * sink.families);
}

}  // namespace
}  // namespace klag::metrics
