#include "kafka/group_census.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "kafka/handles.h"
#include "kafka/make_handle.h"

namespace klag::kafka {
namespace {

std::atomic<int> g_abandoned{0};

using std::chrono::milliseconds;

// How long the destructor waits for a running listing before leaving it.
constexpr milliseconds kDestroyWait{100};

}  // namespace

struct GroupCensus::State {
  KafkaPtr rk;
  std::mutex mu;
  std::condition_variable wake;  // the worker: a request, or stop
  std::condition_variable done;  // the waiters: a listing finished
  bool requested = false;
  Clock::time_point until{};  // of the requested listing
  bool running = false;
  bool stop = false;
  bool abandoned = false;  // the census was destroyed while this ran
  std::optional<Census> latest;

  void run();
  Census list_once(Clock::time_point until);
};

std::expected<std::unique_ptr<GroupCensus>, Error> GroupCensus::create(const ClientOptions& options,
                                                                       milliseconds request_timeout) {
  std::vector<std::pair<std::string, std::string>> overrides;
  if (!options.properties.contains("socket.timeout.ms")) {
    overrides.emplace_back("socket.timeout.ms", std::to_string(std::max<int64_t>(request_timeout.count(), 10)));
  }
  auto rk = make_consumer_handle(options, overrides);
  if (!rk) return std::unexpected(rk.error());
  auto state = std::make_shared<State>();
  state->rk = std::move(*rk);
  return std::unique_ptr<GroupCensus>(new GroupCensus(std::move(state)));
}

GroupCensus::GroupCensus(std::shared_ptr<State> state)
    : state_(std::move(state)), worker_([s = state_]() mutable {
        s->run();
        bool abandoned = false;
        {
          std::lock_guard lock(s->mu);
          abandoned = s->abandoned;
        }
        s.reset();  // the last owner: closes the handle
        if (abandoned) g_abandoned.fetch_sub(1);
      }) {}

GroupCensus::~GroupCensus() {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  s.stop = true;
  s.wake.notify_all();
  if (!s.done.wait_for(lock, kDestroyWait, [&s] { return !s.running; })) {
    s.abandoned = true;
    g_abandoned.fetch_add(1);
    lock.unlock();
    worker_.detach();
    return;
  }
  lock.unlock();
  worker_.join();
}

int GroupCensus::abandoned_listings() { return g_abandoned.load(); }

void GroupCensus::request(Clock::time_point until) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    if (s.running) return;
    s.requested = true;
    s.until = until;
  }
  s.wake.notify_all();
}

bool GroupCensus::busy() {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  return s.running;
}

std::optional<Census> GroupCensus::wait(const Deadline& deadline) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  // Slices, so that a cancelled deadline (shutdown) is seen quickly.
  while ((s.running || s.requested) && !s.stop && !deadline.expired()) {
    const auto slice = std::min<Clock::duration>(deadline.at - Clock::now(), milliseconds(100));
    s.done.wait_for(lock, std::max<Clock::duration>(slice, Clock::duration::zero()));
  }
  return s.latest;
}

void GroupCensus::State::run() {
  std::unique_lock lock(mu);
  for (;;) {
    wake.wait(lock, [this] { return stop || requested; });
    if (stop) return;
    requested = false;
    running = true;
    const Clock::time_point end = until;
    lock.unlock();
    Census census = list_once(end);
    lock.lock();
    latest = std::move(census);
    running = false;
    done.notify_all();
  }
}

Census GroupCensus::State::list_once(Clock::time_point until) {
  // Errors and logs nobody asked for land on the handle's main queue.
  rd_kafka_poll(rk.get(), 0);
  Census out;
  out.started = Clock::now();
  const rd_kafka_group_list* list = nullptr;
  // The call returns by its timeout whatever the brokers did: with the
  // groups of those that answered (__PARTIAL), or none (__TIMED_OUT).
  const auto left = std::chrono::duration_cast<milliseconds>(until - out.started).count();
  const auto err = rd_kafka_list_groups(rk.get(), nullptr, &list, static_cast<int>(std::clamp<int64_t>(left, 1, 3600000)));
  out.finished = Clock::now();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) out.error = Error::from_code(err, "ListGroups (all group types)");
  if (!list) return out;  // set only on success and __PARTIAL
  // A group can be listed by two brokers while its coordinator moves: one
  // entry, with the protocol type of whichever answer names one.
  std::map<std::string, std::string> types;
  for (int i = 0; i < list->group_cnt; ++i) {
    const rd_kafka_group_info& g = list->groups[i];
    if (!g.group) continue;
    std::string& type = types[g.group];
    if (type.empty() && g.protocol_type) type = g.protocol_type;
  }
  rd_kafka_group_list_destroy(list);
  out.groups.reserve(types.size());
  for (auto& [id, type] : types) out.groups.push_back({.id = id, .protocol_type = std::move(type)});
  return out;
}

}  // namespace klag::kafka
