#include "collect/time_sampler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <system_error>
#include <vector>

#include "lag/compute.h"

namespace klag::collect {
namespace {

using Clock = std::chrono::steady_clock;
// cleanup.policy rarely changes; re-read it at most this often per topic.
constexpr std::chrono::minutes kPolicyTtl{10};

}  // namespace

TimeSampler::TimeSampler(kafka::ClientOptions client, config::TimestampSampling cfg)
    : client_(std::move(client)), cfg_(cfg), cache_(cfg.cache_ttl, kMaxCacheEntries) {}

void TimeSampler::retire_reader() {
  reader_topics_.clear();
  if (!reader_) return;
  try {
    retiring_ = std::async(std::launch::async, [r = std::move(reader_)]() mutable { r.reset(); });
  } catch (const std::system_error&) {
    reader_.reset();  // no thread to be had: destroy it here
  }
}

void TimeSampler::note_read(bool answered_any, bool retired) {
  if (answered_any) {
    fruitless_reads_ = 0;
    return;
  }
  ++fruitless_reads_;
  if (retired) cycles_to_skip_ = std::min((1 << std::min(fruitless_reads_ - 1, 8)) - 1, kMaxBackoffCycles);
  if (fruitless_reads_ == kFruitlessWarnAfter) {
    spdlog::warn("cluster {}: {} timestamp reads in a row got no answer within fetch_timeout ({} ms); time lag is "
                 "missing meanwhile. If the brokers are healthy, raise exporter.timestamp_sampling.fetch_timeout (a "
                 "new reader needs about a second before its first answer at thousands of partitions)",
                 client_.cluster_name, fruitless_reads_,
                 std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.fetch_timeout).count());
  }
}

bool TimeSampler::retiring() const {
  return retiring_.valid() && retiring_.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
}

void TimeSampler::retire_reader_if_topics_went(const lag::ClusterSample& sample) {
  if (!reader_ || reader_topics_.empty()) return;
  std::map<std::string_view, int32_t> present;  // topic -> highest partition with watermarks
  for (const auto& p : sample.partitions) {
    auto [it, fresh] = present.try_emplace(p.topic, p.partition);
    if (!fresh) it->second = std::max(it->second, p.partition);
  }
  // A topic with unanswered watermarks still exists; only its leader is slow.
  const std::set<std::string_view> incomplete(sample.incomplete_topics.begin(), sample.incomplete_topics.end());
  for (const auto& [topic, highest] : reader_topics_) {
    if (incomplete.contains(topic)) continue;
    auto it = present.find(topic);
    if (it == present.end() || it->second < highest) {
      spdlog::debug("cluster {}: topic {} is gone or shrank; starting a new timestamp reader", client_.cluster_name,
                    topic);
      retire_reader();
      return;
    }
  }
}

SamplingStats TimeSampler::run(lag::ClusterSample& sample, kafka::AdminClient& admin,
                               const kafka::Deadline& cycle_deadline) {
  SamplingStats stats;
  const auto start = Clock::now();
  sample.timestamps_enabled = true;
  retire_reader_if_topics_went(sample);

  // Which records: the first unconsumed one of every (group, partition)
  // with lag, read once however many groups sit at the same offset.
  std::map<std::pair<std::string_view, int32_t>, const lag::PartitionOffsets*> marks;
  for (const auto& p : sample.partitions) marks.emplace(std::pair{std::string_view(p.topic), p.partition}, &p);
  std::set<TimestampCache::Key> needed;
  for (const auto& c : sample.committed) {
    auto it = marks.find({c.topic, c.partition});
    if (it == marks.end()) continue;
    const int64_t offset = lag::time_lag_read_offset(c.offset, it->second->earliest);
    // At or past the high watermark there is no record to read: lag is 0.
    if (offset >= it->second->latest) continue;
    needed.insert({c.topic, c.partition, offset});
  }

  // Cache first; misses are grouped into rounds with one offset per
  // partition, as one assignment holds one offset per partition.
  std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> misses;
  for (const auto& key : needed) {
    if (auto hit = cache_.lookup(key, start)) {
      ++stats.cache_hits;
      sample.timestamps.push_back({key.topic, key.partition, key.offset, hit->timestamp_ms, hit->returned_offset});
    } else if (denied_.skip(key.topic, start)) {
      ++stats.denied;
    } else {
      misses[{key.topic, key.partition}].push_back(key.offset);
    }
  }

  const kafka::Deadline deadline{.at = std::min(cycle_deadline.at, start + cfg_.fetch_timeout),
                                 .cancel = cycle_deadline.cancel};
  if (!misses.empty() && !reader_ && cycles_to_skip_ > 0) {
    --cycles_to_skip_;
    spdlog::debug("cluster {}: backing off after {} fruitless timestamp reads; no reads this cycle",
                  client_.cluster_name, fruitless_reads_);
  } else if (!misses.empty() && !reader_ && retiring()) {
    // The previous reader is still being torn down: read nothing this cycle
    // rather than hold two handles (cached timestamps are still served, and
    // the misses count as timeouts below).
    spdlog::debug("cluster {}: the previous timestamp reader is still shutting down; no reads this cycle",
                  client_.cluster_name);
  } else if (!misses.empty() && !reader_) {
    auto r = kafka::TimestampReader::create(client_);
    if (!r) {
      spdlog::warn("cluster {}: cannot create the timestamp reader: {}", client_.cluster_name, r.error().to_string());
    } else {
      reader_ = std::move(*r);
    }
  }
  // A reader that had no time left to start a round at all (the budget
  // went on the work above): no answer either, though nothing to replace.
  if (reader_ && !misses.empty() && deadline.expired()) note_read(false, false);
  for (size_t round = 0; reader_ && !misses.empty() && !deadline.expired(); ++round) {
    std::vector<kafka::TimestampRequest> requests;
    for (auto it = misses.begin(); it != misses.end();) {
      requests.push_back({it->first.first, it->first.second, it->second.front()});
      it->second.erase(it->second.begin());
      it = it->second.empty() ? misses.erase(it) : std::next(it);
    }
    for (const auto& r : requests) {
      auto [it, fresh] = reader_topics_.try_emplace(r.topic, r.partition);
      if (!fresh) it->second = std::max(it->second, r.partition);
    }
    kafka::TimestampBatch batch = reader_->read(requests, deadline);
    const bool answered_any = std::ranges::any_of(
        batch.answers, [](const auto& a) { return a.outcome != kafka::TimestampOutcome::timed_out; });
    if (reader_->spent()) {
      // The deadline cut the read short; a later run starts a new reader.
      spdlog::debug("cluster {}: timestamp read cut short by the deadline; replacing the timestamp reader",
                    client_.cluster_name);
      retire_reader();
      note_read(answered_any, true);
    } else {
      note_read(true, false);
    }
    stats.reads += requests.size();
    stats.bytes += batch.bytes_fetched;
    for (const auto& e : batch.errors) spdlog::debug("cluster {}: timestamp read: {}", client_.cluster_name, e.to_string());
    std::set<std::string> newly_denied;
    for (const auto& a : batch.answers) {
      if (a.outcome == kafka::TimestampOutcome::timed_out) ++stats.timeouts;
      if (a.outcome == kafka::TimestampOutcome::denied) {
        ++stats.denied;
        newly_denied.insert(a.request.topic);
        if (denied_.record_denied(a.request.topic, Clock::now())) {
          spdlog::warn("cluster {}: not allowed to read topic {} (TOPIC_AUTHORIZATION_FAILED); time lag is not "
                       "reported for it, retried every {} min. Grant Read on the topic or disable timestamp_sampling",
                       client_.cluster_name, a.request.topic, kDeniedRetry.count());
        }
      }
      if (a.outcome != kafka::TimestampOutcome::found) continue;
      if (denied_.record_read(a.request.topic)) {
        spdlog::info("cluster {}: topic {} can be read now; time lag is reported for it again", client_.cluster_name,
                     a.request.topic);
      }
      const TimestampCache::Key key{a.request.topic, a.request.partition, a.request.offset};
      cache_.insert(key, {a.timestamp_ms, a.returned_offset}, Clock::now());
      sample.timestamps.push_back({key.topic, key.partition, key.offset, a.timestamp_ms, a.returned_offset});
    }
    // Later rounds would only be denied again: drop the topic's other offsets.
    for (auto it = misses.begin(); it != misses.end();) {
      if (!newly_denied.contains(it->first.first)) {
        ++it;
        continue;
      }
      stats.denied += it->second.size();
      it = misses.erase(it);
    }
  }
  for (const auto& [_, offsets] : misses) stats.timeouts += offsets.size();  // rounds never started

  // Compaction: only topics where a record came back later than asked need
  // their cleanup.policy, and it is cached.
  std::set<std::string> skipped_topics;
  for (const auto& t : sample.timestamps) {
    if (t.returned_offset > t.offset) skipped_topics.insert(t.topic);
  }
  std::vector<std::string> to_describe;
  const auto now = Clock::now();
  for (const auto& t : skipped_topics) {
    auto it = cleanup_policy_.find(t);
    if (it == cleanup_policy_.end() || now - it->second.fetched > kPolicyTtl) to_describe.push_back(t);
  }
  if (!to_describe.empty()) {
    if (auto policies = admin.compacted_topics(to_describe, cycle_deadline)) {
      for (const auto& [t, compact] : *policies) cleanup_policy_[t] = {compact, now};
    } else {
      spdlog::debug("cluster {}: DescribeConfigs: {}", client_.cluster_name, policies.error().to_string());
    }
  }
  for (const auto& t : skipped_topics) {
    if (auto it = cleanup_policy_.find(t); it != cleanup_policy_.end() && it->second.compact) {
      sample.compacted_topics.push_back(t);
    }
  }
  cache_.expire(Clock::now());
  denied_.expire(Clock::now());
  // Entries past their TTL would be read again anyway; dropping them keeps
  // deleted topics from piling up here.
  std::erase_if(cleanup_policy_, [&](const auto& kv) { return now - kv.second.fetched > kPolicyTtl; });
  stats.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return stats;
}

}  // namespace klag::collect
