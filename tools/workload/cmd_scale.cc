// scale: builds a large estate fast for benchmarks. Topics are created in
// batched CreateTopics calls, a few records go to every partition through one
// producer, and each group's offsets are committed with
// AlterConsumerGroupOffsets (an OffsetCommit, no consumer running), all calls
// in flight at once.
#include "commands.h"
#include "producer.h"
#include "topic_admin.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace klag::workload {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct ScaleOptions {
  ConnectOptions connect;
  std::string prefix = "scale";
  int topics = 10;
  int partitions = 10;
  int groups = 20;
  int topics_per_group = 1;
  int records = 3;
  int64_t commit_offset = 1;
};

using AlterPtr = std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t,
                                 Destroy<rd_kafka_AlterConsumerGroupOffsets_destroy>>;

std::string topic_name(const ScaleOptions& o, int t) { return o.prefix + "-t" + std::to_string(t); }
std::string group_name(const ScaleOptions& o, int g) { return o.prefix + "-g" + std::to_string(g); }

// Batches of a hundred topics or hundreds of groups take longer than the
// default admin timeout on a loaded broker.
constexpr std::chrono::milliseconds kBatchTimeout{120000};

void create_topics(rd_kafka_t* rk, const ScaleOptions& o) {
  constexpr int kBatch = 100;
  QueuePtr q(rd_kafka_queue_new(rk));
  for (int first = 0; first < o.topics; first += kBatch) {
    std::vector<NewTopicPtr> owned;
    std::vector<rd_kafka_NewTopic_t*> raw;
    char errstr[512];
    for (int t = first; t < std::min(o.topics, first + kBatch); ++t) {
      owned.emplace_back(rd_kafka_NewTopic_new(topic_name(o, t).c_str(), o.partitions, 1, errstr, sizeof errstr));
      if (!owned.back()) throw WorkloadError(std::string("NewTopic: ") + errstr);
      raw.push_back(owned.back().get());
    }
    auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, kBatchTimeout);
    rd_kafka_CreateTopics(rk, raw.data(), raw.size(), opts.get(), q.get());
    auto ev = await_result(q.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics", kBatchTimeout);
    size_t n = 0;
    const auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      auto err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        throw WorkloadError(std::string("create ") + rd_kafka_topic_result_name(results[i]) + ": " +
                            rd_kafka_err2str(err));
      }
    }
  }
}

// Waits until one metadata answer shows every topic with all its leaders.
void wait_for_leaders(rd_kafka_t* rk, const ScaleOptions& o) {
  const auto deadline = Clock::now() + 300s;
  while (Clock::now() < deadline) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(rk, 1, nullptr, &raw, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MetadataPtr md(raw);
      int ready = 0;
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || !std::string_view(t.topic).starts_with(o.prefix + "-t")) continue;
        bool all = t.partition_cnt == o.partitions;
        for (int p = 0; all && p < t.partition_cnt; ++p) all = t.partitions[p].leader >= 0;
        ready += all ? 1 : 0;
      }
      if (ready >= o.topics) return;
    }
    std::this_thread::sleep_for(500ms);
  }
  throw WorkloadError("topics did not all get leaders within 300 s");
}

// librdkafka's producer does per-partition work on every broker-thread
// wakeup, so one handle over 20,000 partitions crawls. Several handles,
// each over a slice of the topics, keep that cost small.
void produce(const ScaleOptions& o) {
  const int producers = std::clamp(o.topics * o.partitions / 1000, 1, 16);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(producers));
  for (int k = 0; k < producers; ++k) {
    threads.emplace_back([&o, &errors, k, producers] {
      try {
        Producer producer(o.connect, {{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
        const std::string value(16, 'x');
        for (int t = k; t < o.topics; t += producers) {
          const std::string topic = topic_name(o, t);
          for (int p = 0; p < o.partitions; ++p) {
            for (int r = 0; r < o.records; ++r) producer.send(topic, p, "k", value);
          }
          producer.poll();
        }
        producer.flush(600s);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(k)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (!e.empty()) throw WorkloadError("produce: " + e);
  }
}

void commit_groups(rd_kafka_t* rk, const ScaleOptions& o) {
  constexpr int kInFlight = 200;
  QueuePtr q(rd_kafka_queue_new(rk));
  int sent = 0;
  int done = 0;
  auto send = [&](int g) {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(o.topics_per_group * o.partitions));
    for (int k = 0; k < o.topics_per_group; ++k) {
      const std::string topic = topic_name(o, (g * o.topics_per_group + k) % o.topics);
      for (int p = 0; p < o.partitions; ++p) {
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = o.commit_offset;
      }
    }
    AlterPtr req(rd_kafka_AlterConsumerGroupOffsets_new(group_name(o, g).c_str(), list.get()));
    rd_kafka_AlterConsumerGroupOffsets_t* reqs[] = {req.get()};
    auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, kBatchTimeout);
    rd_kafka_AlterConsumerGroupOffsets(rk, reqs, 1, opts.get(), q.get());
  };
  // A new broker loads __consumer_offsets partitions for a while: groups
  // whose coordinator is not ready yet are sent again.
  auto retriable = [](rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
           e == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
  };
  int retries = 0;
  while (done < o.groups) {
    while (sent < o.groups && sent - done < kInFlight) send(sent++);
    auto ev = await_result(q.get(), RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, "AlterConsumerGroupOffsets",
                           kBatchTimeout);
    size_t n = 0;
    const auto** groups =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      const std::string name = rd_kafka_group_result_name(groups[i]);
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) err = rd_kafka_error_code(e);
      const auto* parts = rd_kafka_group_result_partitions(groups[i]);
      for (int p = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && parts && p < parts->cnt; ++p) err = parts->elems[p].err;
      if (retriable(err) && ++retries < 100 * o.groups) {
        std::this_thread::sleep_for(100ms);
        send(std::stoi(name.substr(name.rfind('g') + 1)));
        continue;  // still in flight
      }
      check(err, "commit " + name);
      ++done;
    }
  }
}

void run(const ScaleOptions& o) {
  if (o.commit_offset > o.records) throw WorkloadError("--commit-offset must not exceed --records");
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  auto seconds = [start = Clock::now()] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  create_topics(rk.get(), o);
  wait_for_leaders(rk.get(), o);
  print_line("topics " + std::to_string(o.topics) + " partitions " + std::to_string(o.topics * o.partitions) +
             " at " + std::to_string(seconds()) + " s");
  produce(o);
  print_line("records " + std::to_string(int64_t{o.topics} * o.partitions * o.records) + " at " +
             std::to_string(seconds()) + " s");
  commit_groups(rk.get(), o);
  print_line("groups " + std::to_string(o.groups) + " group-partitions " +
             std::to_string(int64_t{o.groups} * o.topics_per_group * o.partitions) + " at " +
             std::to_string(seconds()) + " s");
}

}  // namespace

void register_scale(CLI::App& app) {
  auto o = make_options<ScaleOptions>();
  auto* sub = app.add_subcommand("scale", "create a large estate: topics, a few records each, committed groups");
  add_connect_options(sub, o->connect);
  sub->add_option("--prefix", o->prefix, "name prefix: <prefix>-t<N> topics, <prefix>-g<N> groups")
      ->capture_default_str();
  sub->add_option("--topics", o->topics)->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--partitions", o->partitions, "partitions per topic")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--groups", o->groups)->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--topics-per-group", o->topics_per_group, "each group commits on every partition of this many topics")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--records", o->records, "records per partition")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--commit-offset", o->commit_offset, "offset each group commits (lag = records - offset)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->callback([o] { run(*o); });
}

}  // namespace klag::workload
