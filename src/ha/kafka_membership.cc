#include "ha/kafka_membership.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace klag::ha {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPollSlice{100};
constexpr milliseconds kJoinTimeout{10000};
constexpr milliseconds kMaxBackoff{30000};

}  // namespace

kafka::MemberOptions member_options(const config::Config& config, const config::KafkaCoordination& k,
                                    const std::string& identity, int partitions) {
  const config::Cluster& c = config.coordination_cluster(k);
  return kafka::MemberOptions{
      .client = {.cluster_name = c.name, .bootstrap_servers = c.bootstrap_servers, .properties = c.consumer_properties},
      .client_id = identity,
      .group = k.group,
      .topic = k.topic,
      .partitions = partitions,
      .session_timeout = k.session_timeout};
}

KafkaMembership::KafkaMembership(kafka::MemberOptions options)
    : options_(std::move(options)), stall_limit_(options_.session_timeout / 2) {}

KafkaMembership::~KafkaMembership() { stop(); }

void KafkaMembership::start(OnChange on_change) {
  on_change_ = std::move(on_change);
  thread_ = std::thread([this] { run(); });
}

void KafkaMembership::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Holding KafkaMembership::held(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  if (now - last_poll_ > stall_limit_) return Holding{.partitions = {}, .total = holding_.total};
  return holding_;
}

void KafkaMembership::report(Holding h, Clock::time_point polled) {
  {
    std::lock_guard lock(mu_);
    last_poll_ = polled;
    if (h.partitions == holding_.partitions && h.total == holding_.total) return;
    holding_ = h;
  }
  if (on_change_) on_change_(h);  // outside the lock: it may call held()
}

void KafkaMembership::run() {
  milliseconds backoff{500};
  auto stopping = [this](milliseconds wait) {
    std::unique_lock lock(stop_mu_);
    return stop_cv_.wait_for(lock, wait, [this] { return stop_; });
  };
  while (!stopping(milliseconds(0))) {
    auto member = kafka::GroupMember::join(options_, kJoinTimeout, [&stopping] { return stopping(milliseconds(0)); });
    if (!member) {
      spdlog::warn("coordination group {}: cannot join: {} (retrying in {}ms)", options_.group,
                   member.error().to_string(), backoff.count());
      if (stopping(backoff)) break;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = milliseconds(500);
    spdlog::info("coordination group {}: joined as {} (topic {}, {} partition(s))", options_.group,
                 options_.client_id, options_.topic, (*member)->topic_partitions());
    auto last = Clock::now();
    report(Holding{.partitions = {}, .total = (*member)->topic_partitions()}, last);
    bool rejoin = false;
    while (!rejoin && !stopping(milliseconds(0))) {
      auto partitions = (*member)->poll(kPollSlice);
      const auto now = Clock::now();
      if (now - last > stall_limit_) {
        // Frozen or starved past half a session: the broker may have given
        // our partitions to a peer already. Drop them and start over.
        spdlog::warn("coordination group {}: not polled for {}ms; leaving and rejoining", options_.group,
                     std::chrono::duration_cast<milliseconds>(now - last).count());
        rejoin = true;
        partitions.clear();
      }
      last = now;
      // The new holding and the poll time change together: held() must
      // never pair a fresh poll time with an assignment from before a stall.
      report(Holding{.partitions = std::move(partitions), .total = (*member)->topic_partitions()}, now);
    }
    member->reset();  // leaves the group
  }
  int total = 0;
  Clock::time_point polled;
  {
    std::lock_guard lock(mu_);
    total = holding_.total;
    polled = last_poll_;
  }
  report(Holding{.partitions = {}, .total = total}, polled);
}

}  // namespace klag::ha
