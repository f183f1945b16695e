#include "kafka/group_census.h"

#include <algorithm>
#include <map>

#include "kafka/handles.h"
#include "kafka/make_handle.h"

namespace klag::kafka {

struct GroupCensus::Handle {
  KafkaPtr rk;
};

std::expected<std::unique_ptr<GroupCensus>, Error> GroupCensus::create(const ClientOptions& options,
                                                                       std::chrono::milliseconds request_timeout) {
  std::vector<std::pair<std::string, std::string>> overrides;
  if (!options.properties.contains("socket.timeout.ms")) {
    overrides.emplace_back("socket.timeout.ms", std::to_string(std::max<int64_t>(request_timeout.count(), 10)));
  }
  auto rk = make_consumer_handle(options, overrides);
  if (!rk) return std::unexpected(rk.error());
  auto handle = std::make_unique<Handle>();
  handle->rk = std::move(*rk);
  return std::unique_ptr<GroupCensus>(new GroupCensus(std::move(handle), request_timeout));
}

GroupCensus::GroupCensus(std::unique_ptr<Handle> handle, std::chrono::milliseconds request_timeout)
    : handle_(std::move(handle)), request_timeout_(request_timeout), worker_([this] { run(); }) {}

GroupCensus::~GroupCensus() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void GroupCensus::request() {
  {
    std::lock_guard lock(mu_);
    if (running_) return;
    requested_ = true;
  }
  wake_.notify_all();
}

std::optional<Census> GroupCensus::wait(const Deadline& deadline) {
  std::unique_lock lock(mu_);
  // Slices, so that a cancelled deadline (shutdown) is seen quickly.
  while ((running_ || requested_) && !stop_ && !deadline.expired()) {
    const auto slice = std::min<Clock::duration>(deadline.at - Clock::now(), std::chrono::milliseconds(100));
    done_.wait_for(lock, std::max<Clock::duration>(slice, Clock::duration::zero()));
  }
  return latest_;
}

void GroupCensus::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || requested_; });
    if (stop_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    Census census = list_once();
    lock.lock();
    latest_ = std::move(census);
    running_ = false;
    done_.notify_all();
  }
}

Census GroupCensus::list_once() {
  rd_kafka_t* rk = handle_->rk.get();
  // Errors and logs nobody asked for land on the handle's main queue.
  rd_kafka_poll(rk, 0);
  Census out;
  out.started = Clock::now();
  const rd_kafka_group_list* list = nullptr;
  // The timeout bounds only the wait for the handle's first metadata; the
  // requests themselves end by socket.timeout.ms.
  const auto err =
      rd_kafka_list_groups(rk, nullptr, &list, static_cast<int>(std::clamp<int64_t>(request_timeout_.count(), 1, 3600000)));
  out.finished = Clock::now();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.error = Error::from_code(err, "ListGroups (all group types)");
    return out;
  }
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
