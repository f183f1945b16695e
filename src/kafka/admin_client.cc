#include "kafka/admin_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>
#include <mutex>
#include <atomic>

#include "kafka/handles.h"
#include "kafka/make_handle.h"

namespace klag::kafka {
namespace {

using std::chrono::milliseconds;

// The group.id of the admin handles (see create()). Never joined and never
// committed to, so it never appears in ListGroups.
constexpr const char* kAdminGroupId = "klag-exporter-admin";

// Poll slices: short enough that cancellation (shutdown) is seen quickly.
constexpr milliseconds kPollSlice{100};

// librdkafka rejects admin request timeouts above one hour.
int clamp_timeout_ms(int64_t ms) { return static_cast<int>(std::clamp<int64_t>(ms, 1, 3600 * 1000)); }

int timeout_ms(const Deadline& d) { return clamp_timeout_ms(d.remaining().count()); }

// The request timeout of an admin call: a fifth before our own deadline.
// A call that fans out to several brokers or coordinators (ListGroups to
// every broker, DescribeGroups to each group's coordinator) then answers
// with the brokers that did answer, plus a per-broker timeout error for a
// hung one, before we stop waiting; with the same instant for both, a
// single frozen broker lost every broker's answer. No absolute margin: at
// a 1 s poll interval ListGroups has 250 ms, and a fixed 100 ms would
// leave a fresh client too little to connect.
int admin_timeout_ms(const Deadline& d) {
  const auto ms = d.remaining().count();
  return clamp_timeout_ms(ms - ms / 5);
}

Error from_rd_error(const rd_kafka_error_t* e, const std::string& context) {
  Error err = Error::from_code(rd_kafka_error_code(e), context);
  err.message = context + ": " + rd_kafka_error_string(e);
  return err;
}

// Waits for one event on `q` until the deadline. Null on timeout/cancel.
EventPtr wait_event(rd_kafka_queue_t* q, const Deadline& deadline) {
  while (!deadline.expired()) {
    auto slice = std::min(deadline.remaining(), kPollSlice);
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(std::max<int64_t>(slice.count(), 1)))) {
      return EventPtr(ev);
    }
  }
  return nullptr;
}

std::expected<AdminOptionsPtr, Error> make_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                                   const Deadline& deadline) {
  AdminOptionsPtr opts(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), admin_timeout_ms(deadline), errstr, sizeof errstr) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__INVALID_ARG, errstr));
  }
  return opts;
}

// An admin request that librdkafka timed out itself (request_timeout) may
// still be in flight, or waiting for a broker to come up: its answer
// arrives with this code while the request it started lives on.
bool timed_out_locally(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE;
}

// Checks that an event is the expected result type and carries no
// request-level error.
std::expected<void, Error> check_event(const EventPtr& ev, rd_kafka_event_type_t type,
                                       const std::string& what) {
  if (!ev) return std::unexpected(Error::timed_out(what));
  if (rd_kafka_event_type(ev.get()) != type) {
    return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__FAIL, what + ": unexpected event"));
  }
  if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Error e = Error::from_code(err, what);
    if (const char* s = rd_kafka_event_error_string(ev.get())) e.message = what + ": " + s;
    return std::unexpected(e);
  }
  return {};
}

}  // namespace

std::chrono::milliseconds Deadline::remaining() const {
  auto left = std::chrono::duration_cast<milliseconds>(at - Clock::now());
  return std::max(left, milliseconds(0));
}

bool Deadline::expired() const {
  return Clock::now() >= at || (cancel && cancel->load(std::memory_order_relaxed));
}

struct AdminClient::Impl {
  KafkaPtr rk;            // read_uncommitted: admin calls, high watermarks
  KafkaPtr rk_committed;  // read_committed: last stable offsets only
  std::string cluster_name;
};

AdminClient::AdminClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminClient::~AdminClient() = default;

std::expected<std::unique_ptr<AdminClient>, Error> AdminClient::create(const ClientOptions& options) {
  // read_uncommitted makes the end offset the high watermark, which
  // ConsumerGroupCommand's LAG is measured against; read_committed makes it
  // the last stable offset (LSO).
  //
  // Both handles carry a group.id, although they never join a group or
  // commit: librdkafka 2.0.2 handles an OffsetFetch answered with
  // NOT_COORDINATOR (the first request after a group's coordinator moved,
  // e.g. by a preferred leader election) by asking the handle's own
  // consumer group to look up its coordinator again, and without a
  // group.id there is none: it dereferences a null pointer and the process
  // dies (SIGSEGV). With one, the lookup is an extra FindCoordinator for
  // klag-exporter-admin, about once a second while librdkafka keeps looking
  // (denied, with a line in the broker's authorizer log, without Describe
  // on that group). See docs/design.md, "Coordinator moves".
  auto rk = make_consumer_handle(options, {{"isolation.level", "read_uncommitted"}, {"group.id", kAdminGroupId}});
  if (!rk) return std::unexpected(rk.error());
  auto rk_committed =
      make_consumer_handle(options, {{"isolation.level", "read_committed"}, {"group.id", kAdminGroupId}});
  if (!rk_committed) return std::unexpected(rk_committed.error());
  auto impl = std::make_unique<Impl>();
  impl->rk = std::move(*rk);
  impl->rk_committed = std::move(*rk_committed);
  impl->cluster_name = options.cluster_name;
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(impl)));
}

void AdminClient::serve_events() {
  // Errors and logs that nobody asked for land on each handle's main queue;
  // serving it keeps them from piling up while a broker stays unreachable.
  rd_kafka_poll(impl_->rk.get(), 0);
  rd_kafka_poll(impl_->rk_committed.get(), 0);
}

bool listing_failed(size_t listed, size_t broker_errors, size_t known_brokers) {
  return listed == 0 && broker_errors > 0 && broker_errors >= known_brokers;
}

std::expected<GroupListing, Error> AdminClient::list_groups(const Deadline& deadline, size_t known_brokers) {
  rd_kafka_t* rk = impl_->rk.get();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, deadline);
  if (!opts) return std::unexpected(opts.error());
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_ListConsumerGroups(rk, opts->get(), q.get());
  EventPtr ev = wait_event(q.get(), deadline);
  if (!ev || timed_out_locally(rd_kafka_event_error(ev.get()))) requests_left_behind_ = true;
  if (auto ok = check_event(ev, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "ListConsumerGroups"); !ok) {
    return std::unexpected(ok.error());
  }
  const auto* res = rd_kafka_event_ListConsumerGroups_result(ev.get());
  GroupListing out;
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  // 2.0.2 may list a group once per broker (the coordinator moved while
  // the brokers answered): keep one entry, its state only if they agree.
  std::map<std::string, std::string> states;
  for (size_t i = 0; i < n; ++i) {
    std::string state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i]));
    auto [it, fresh] = states.try_emplace(rd_kafka_ConsumerGroupListing_group_id(valid[i]), state);
    if (!fresh && it->second != state) it->second = "Unknown";
  }
  out.groups.reserve(states.size());
  for (auto& [id, state] : states) out.groups.push_back({.id = id, .state = std::move(state)});
  size_t ne = 0;
  const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
  for (size_t i = 0; i < ne; ++i) {
    if (timed_out_locally(rd_kafka_error_code(errs[i]))) requests_left_behind_ = true;
    out.broker_errors.push_back(from_rd_error(errs[i], "ListConsumerGroups"));
  }
  // Brokers that answered with no groups while another failed are an
  // empty listing with a partial error, not a failed cycle.
  if (listing_failed(n, ne, known_brokers)) return std::unexpected(out.broker_errors.front());
  return out;
}

std::expected<GroupDescriptions, Error> AdminClient::describe_groups(const std::vector<std::string>& ids,
                                                                     const Deadline& deadline) {
  GroupDescriptions out;
  if (ids.empty()) return out;
  rd_kafka_t* rk = impl_->rk.get();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, deadline);
  if (!opts) return std::unexpected(opts.error());
  std::vector<const char*> names;
  names.reserve(ids.size());
  for (const auto& id : ids) names.push_back(id.c_str());
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConsumerGroups(rk, names.data(), names.size(), opts->get(), q.get());
  EventPtr ev = wait_event(q.get(), deadline);
  if (!ev || timed_out_locally(rd_kafka_event_error(ev.get()))) requests_left_behind_ = true;
  if (auto ok = check_event(ev, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, "DescribeConsumerGroups"); !ok) {
    return std::unexpected(ok.error());
  }
  const auto* res = rd_kafka_event_DescribeConsumerGroups_result(ev.get());
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs = rd_kafka_DescribeConsumerGroups_result_groups(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const auto* d = descs[i];
    std::string id = rd_kafka_ConsumerGroupDescription_group_id(d);
    if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(d)) {
      if (timed_out_locally(rd_kafka_error_code(e))) requests_left_behind_ = true;
      if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__INVALID_ARG) {
        out.non_consumer_groups.push_back(std::move(id));
      } else {
        out.errors.emplace_back(id, from_rd_error(e, "DescribeConsumerGroups " + id));
        out.groups.push_back(lag::Group{.id = std::move(id)});
      }
      continue;
    }
    lag::Group g{.id = std::move(id),
                 .state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d)),
                 .assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d)
                                 ? rd_kafka_ConsumerGroupDescription_partition_assignor(d)
                                 : "",
                 .described = true};
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
    for (size_t m = 0; m < members; ++m) {
      const auto* md = rd_kafka_ConsumerGroupDescription_member(d, m);
      auto str = [](const char* s) { return s ? std::string(s) : std::string(); };
      lag::Member mem{.client_id = str(rd_kafka_MemberDescription_client_id(md)),
                      .consumer_id = str(rd_kafka_MemberDescription_consumer_id(md)),
                      .host = str(rd_kafka_MemberDescription_host(md))};
      if (const auto* a = rd_kafka_MemberDescription_assignment(md)) {
        if (const auto* parts = rd_kafka_MemberAssignment_partitions(a)) {
          for (int p = 0; p < parts->cnt; ++p) {
            mem.assignment.push_back({parts->elems[p].topic, parts->elems[p].partition});
          }
        }
      }
      g.members.push_back(std::move(mem));
    }
    out.groups.push_back(std::move(g));
  }
  return out;
}

std::vector<GroupOffsets> AdminClient::committed_offsets(const std::vector<std::string>& ids,
                                                         const Deadline& deadline) {
  rd_kafka_t* rk = impl_->rk.get();
  std::map<std::string, GroupOffsets> pending;
  for (const auto& id : ids) pending.emplace(id, GroupOffsets{.group = id});
  std::vector<GroupOffsets> out;
  if (ids.empty()) return out;

  // A private queue: answers that arrive after the deadline land here and
  // die with it, instead of leaking into the next cycle.
  QueuePtr q(rd_kafka_queue_new(rk));
  size_t sent = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, deadline);
    if (!opts) {
      pending.at(ids[i]).error = opts.error();
      continue;
    }
    ++sent;
    // The opaque names the group even when the whole request fails.
    rd_kafka_AdminOptions_set_opaque(opts->get(), const_cast<std::string*>(&ids[i]));
    ListOffsetsRequestPtr req(rd_kafka_ListConsumerGroupOffsets_new(ids[i].c_str(), nullptr));
    rd_kafka_ListConsumerGroupOffsets_t* one[] = {req.get()};
    rd_kafka_ListConsumerGroupOffsets(rk, one, 1, opts->get(), q.get());
  }
  size_t answered = 0;
  while (answered < sent) {
    EventPtr ev = wait_event(q.get(), deadline);
    if (!ev) break;
    ++answered;
    if (rd_kafka_event_type(ev.get()) != RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT) continue;
    const auto* id = static_cast<const std::string*>(rd_kafka_event_opaque(ev.get()));
    if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (timed_out_locally(err)) requests_left_behind_ = true;
      if (auto it = id ? pending.find(*id) : pending.end(); it != pending.end()) {
        it->second.error = Error::from_code(err, "ListConsumerGroupOffsets " + *id);
        out.push_back(std::move(it->second));
        pending.erase(it);
      }
      continue;
    }
    const auto* res = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
    size_t n = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n);
    for (size_t i = 0; i < n; ++i) {
      auto it = pending.find(rd_kafka_group_result_name(groups[i]));
      if (it == pending.end()) continue;
      GroupOffsets& g = it->second;
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) {
        if (timed_out_locally(rd_kafka_error_code(e))) requests_left_behind_ = true;
        g.error = from_rd_error(e, "ListConsumerGroupOffsets " + g.group);
      } else if (const auto* parts = rd_kafka_group_result_partitions(groups[i])) {
        for (int p = 0; p < parts->cnt; ++p) {
          const auto& el = parts->elems[p];
          // No commit (-1) or a per-partition error: no offset, no series.
          if (el.err != RD_KAFKA_RESP_ERR_NO_ERROR || el.offset < 0) continue;
          g.offsets.push_back({.group = g.group, .topic = el.topic, .partition = el.partition, .offset = el.offset});
        }
      }
      out.push_back(std::move(g));
      pending.erase(it);
    }
  }
  if (answered < sent) requests_left_behind_ = true;
  for (auto& [_, g] : pending) {
    if (!g.error) g.error = Error::timed_out("ListConsumerGroupOffsets " + g.group);
    out.push_back(std::move(g));
  }
  return out;
}

std::expected<std::map<std::string, bool>, Error> AdminClient::compacted_topics(
    const std::vector<std::string>& topics, const Deadline& deadline) {
  std::map<std::string, bool> out;
  if (topics.empty()) return out;
  rd_kafka_t* rk = impl_->rk.get();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, deadline);
  if (!opts) return std::unexpected(opts.error());
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& t : topics) resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources.data(), resources.size(), opts->get(), q.get());
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  EventPtr ev = wait_event(q.get(), deadline);
  if (!ev || timed_out_locally(rd_kafka_event_error(ev.get()))) requests_left_behind_ = true;
  if (auto ok = check_event(ev, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs"); !ok) {
    return std::unexpected(ok.error());
  }
  size_t n = 0;
  const rd_kafka_ConfigResource_t** res =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_ConfigResource_error(res[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    size_t ne = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(res[i], &ne);
    bool compact = false;
    for (size_t e = 0; e < ne; ++e) {
      if (std::string_view(rd_kafka_ConfigEntry_name(entries[e])) != "cleanup.policy") continue;
      const char* v = rd_kafka_ConfigEntry_value(entries[e]);
      compact = v && std::string_view(v).find("compact") != std::string_view::npos;
    }
    out[rd_kafka_ConfigResource_name(res[i])] = compact;
  }
  return out;
}

std::expected<ClusterMetadata, Error> AdminClient::metadata(const Deadline& deadline) {
  if (deadline.expired()) return std::unexpected(Error::timed_out("Metadata"));
  // librdkafka sends the request to one broker it has a connection to. When
  // that broker is frozen (its connection still up) the request waits
  // there until it times out, and when it goes away (stopped, killed) the
  // call fails with a transport error, while the other brokers could
  // answer. So each attempt gets at most half the time left, and a failed
  // one is retried after a short pause: librdkafka picks a broker at
  // random among those up, and has marked a vanished one down.
  constexpr milliseconds kRetryPause{100};
  constexpr milliseconds kMinAttempt{300};
  constexpr milliseconds kMaxAttempt{2000};
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int attempt = 1;; ++attempt) {
    const auto left = deadline.remaining();
    // At most 2 s an attempt: a SIGTERM is seen between attempts.
    const auto budget = left < 2 * kMinAttempt ? left : std::clamp(left / 2, kMinAttempt, kMaxAttempt);
    err = rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &raw,
                            static_cast<int>(std::max<int64_t>(budget.count(), 1)));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    spdlog::debug("cluster {}: metadata attempt {} failed: {}", impl_->cluster_name, attempt, rd_kafka_err2str(err));
    if (attempt >= 10 || deadline.expired() || deadline.remaining() < kRetryPause + kMinAttempt / 2) break;
    std::this_thread::sleep_for(kRetryPause);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::unexpected(Error::from_code(err, "Metadata"));
  MetadataPtr md(raw);
  ClusterMetadata out;
  out.broker_count = md->broker_cnt;
  for (int b = 0; b < md->broker_cnt; ++b) {
    out.brokers.push_back(std::string(md->brokers[b].host) + ":" + std::to_string(md->brokers[b].port));
  }
  std::sort(out.brokers.begin(), out.brokers.end());
  for (int t = 0; t < md->topic_cnt; ++t) {
    const auto& tm = md->topics[t];
    if (tm.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    TopicMetadata topic{.name = tm.topic};
    for (int p = 0; p < tm.partition_cnt; ++p) {
      topic.partitions.push_back({.id = tm.partitions[p].id, .leader = tm.partitions[p].leader});
    }
    std::sort(topic.partitions.begin(), topic.partitions.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    out.topics.push_back(std::move(topic));
  }
  std::sort(out.topics.begin(), out.topics.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

namespace {

// Partitions per offsets_for_times call. librdkafka 2.0.2 matches each
// answered partition against the request list by linear search (strcmp on
// topic names), so one call costs O(n^2): 20,000 partitions in one call
// take seconds of CPU. Chunks of this size keep it linear in the total and
// still send one ListOffsets request per chunk.
constexpr size_t kChunk = 250;
// Chunks in flight at once (each call blocks its thread for a round trip).
constexpr size_t kWorkers = 4;

// One offsets_for_times call on `rk` for the partitions `idx` of `all`;
// `special` is -2 (log start) or -1 (end). Writes answered offsets into
// `out` at the same indexes (entries left at -1 were not answered).
std::expected<void, Error> query_offsets(rd_kafka_t* rk, const std::vector<lag::TopicPartition>& all,
                                         const std::vector<size_t>& idx, int64_t special, const Deadline& deadline,
                                         std::vector<int64_t>& out) {
  if (deadline.expired()) return std::unexpected(Error::timed_out("ListOffsets"));
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(idx.size())));
  for (size_t i : idx) {
    rd_kafka_topic_partition_list_add(list.get(), all[i].topic.c_str(), all[i].partition)->offset = special;
  }
  auto err = rd_kafka_offsets_for_times(rk, list.get(), timeout_ms(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::unexpected(Error::from_code(err, "ListOffsets"));
  // The list keeps its order: element k answers idx[k].
  for (int k = 0; k < list->cnt; ++k) {
    const auto& el = list->elems[k];
    const auto& want = all[idx[static_cast<size_t>(k)]];
    if (el.err == RD_KAFKA_RESP_ERR_NO_ERROR && el.offset >= 0 && el.partition == want.partition &&
        want.topic == el.topic) {
      out[idx[static_cast<size_t>(k)]] = el.offset;
    }
  }
  return {};
}

}  // namespace

Watermarks AdminClient::watermarks(const std::vector<lag::TopicPartition>& partitions,
                                   const ClusterMetadata& metadata, const Deadline& deadline) {
  Watermarks out;
  const size_t n = partitions.size();
  if (n == 0) return out;

  // Chunks never mix leaders, so a failing leader costs only its own
  // partitions (a call fails as a whole when any of its requests fails).
  std::map<std::pair<std::string_view, int32_t>, int32_t> leader_of;
  for (const auto& t : metadata.topics) {
    for (const auto& p : t.partitions) leader_of[{t.name, p.id}] = p.leader;
  }
  std::map<int32_t, std::vector<size_t>> by_leader;
  for (size_t i = 0; i < n; ++i) {
    auto it = leader_of.find({partitions[i].topic, partitions[i].partition});
    by_leader[it == leader_of.end() ? -1 : it->second].push_back(i);
  }
  std::vector<std::vector<size_t>> chunks;
  for (auto& [leader, idx] : by_leader) {
    for (size_t first = 0; first < idx.size(); first += kChunk) {
      chunks.emplace_back(idx.begin() + static_cast<std::ptrdiff_t>(first),
                          idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), first + kChunk)));
    }
  }

  std::vector<int64_t> earliest(n, -1), latest(n, -1), stable(n, -1);
  struct Job {
    const std::vector<size_t>* idx;
    rd_kafka_t* rk;
    int64_t special;
    std::vector<int64_t>* out;
  };
  std::vector<Job> jobs;
  for (const auto& c : chunks) {
    jobs.push_back({&c, impl_->rk.get(), RD_KAFKA_OFFSET_BEGINNING, &earliest});
    jobs.push_back({&c, impl_->rk.get(), RD_KAFKA_OFFSET_END, &latest});
    // The LSO is extra information: without it a partition still has lag.
    jobs.push_back({&c, impl_->rk_committed.get(), RD_KAFKA_OFFSET_END, &stable});
  }
  std::atomic<size_t> next{0};
  std::mutex errors_mu;
  auto work = [&] {
    for (size_t j = next++; j < jobs.size(); j = next++) {
      const Job& job = jobs[j];
      if (auto r = query_offsets(job.rk, partitions, *job.idx, job.special, deadline, *job.out); !r) {
        std::lock_guard lock(errors_mu);
        out.errors.push_back(r.error());
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    for (size_t w = 1; w < std::min(kWorkers, jobs.size()); ++w) workers.emplace_back(work);
    work();
  }  // joined here

  out.partitions.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (earliest[i] < 0 || latest[i] < 0) {
      ++out.missing;
      continue;
    }
    // The LSO is read on another connection after the high watermark, so it
    // can come out above it when records arrived in between: cap it.
    out.partitions.push_back({.topic = partitions[i].topic,
                              .partition = partitions[i].partition,
                              .earliest = earliest[i],
                              .latest = latest[i],
                              .stable = stable[i] < 0 ? -1 : std::min(stable[i], latest[i])});
  }
  return out;
}

}  // namespace klag::kafka
