// Leader election through a Kafka consumer group (provider = "kafka").
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "ha/election.h"
#include "ha/kafka_membership.h"

namespace klag::ha {
namespace {

bool holds_zero(const Holding& h) { return !h.partitions.empty() && h.partitions.front() == 0; }

class KafkaElection final : public Election {
 public:
  explicit KafkaElection(kafka::MemberOptions options) : membership_(std::move(options)) {}
  ~KafkaElection() override { stop(); }  // the thread's callback uses leader_
  KafkaElection(const KafkaElection&) = delete;
  KafkaElection& operator=(const KafkaElection&) = delete;

  void start(OnChange on_change) override {
    membership_.start([this, on_change = std::move(on_change)](const Holding& h) {
      const bool now_leader = holds_zero(h);
      if (now_leader == leader_.exchange(now_leader)) return;
      spdlog::info("leadership (kafka): {}", now_leader ? "this replica is now the leader" : "standing by");
      if (on_change) on_change(now_leader);
    });
  }
  void stop() override { membership_.stop(); }
  bool is_leader(std::chrono::steady_clock::time_point now) const override {
    return holds_zero(membership_.held(now));
  }
  const char* provider() const override { return "kafka"; }

 private:
  KafkaMembership membership_;
  std::atomic<bool> leader_{false};
};

}  // namespace

std::string replica_identity(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) return pod;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

std::unique_ptr<Election> make_kafka_election(const config::Config& config, const std::string& identity) {
  return std::make_unique<KafkaElection>(member_options(config, config.exporter.leadership.kafka, identity, 1));
}

}  // namespace klag::ha
