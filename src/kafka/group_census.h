// Every group a cluster's brokers list, whatever its type, found in the
// background on a handle of its own.
//
// librdkafka 2.0.2's ListConsumerGroups (AdminClient::list_groups) keeps
// only groups whose ListGroups protocol type is "consumer" or empty, so a
// Kafka Streams group on group.protocol=streams (KIP-1071, protocol type
// "streams") is never listed, although its committed offsets are ordinary
// ones that lag. The only other listing 2.0.2 has is the legacy
// rd_kafka_list_groups: ListGroups to every broker it knows, then one
// DescribeGroups per broker for all the groups that broker listed. It
// drops no type, but it blocks (up to its timeout: it then answers with
// what came, __PARTIAL) and cannot be cancelled. So it runs here, on one
// worker thread with its own handle, never on the collection thread: a
// cycle asks for a listing bounded by its listing step's deadline when it
// starts and collects the answer at that deadline.
//
// What the legacy call reports per group is DescribeGroups' view: a group
// that is not a classic group (KIP-848 consumer, Streams and share groups)
// comes back in state Dead with an empty protocol type, so neither its
// state nor its type can be read here (see docs/design.md, "Streams groups").
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kafka/admin_client.h"
#include "kafka/error.h"

namespace klag::kafka {

struct CensusGroup {
  std::string id;
  // As DescribeGroups answered: "consumer", "connect", ... for a classic
  // group; empty for any other (and for a classic group without members
  // that never chose a protocol).
  std::string protocol_type;
};

struct Census {
  std::vector<CensusGroup> groups;  // de-duplicated, sorted by id
  // Set when some broker did not answer in time (the listing may miss
  // groups: `groups` holds the others' answers, possibly none) or the
  // listing failed as a whole (`groups` is empty).
  std::optional<Error> error;
  Clock::time_point started{};
  Clock::time_point finished{};
};

class GroupCensus {
 public:
  // `request_timeout` becomes the handle's socket.timeout.ms unless the
  // cluster's consumer_properties set it: how long a request a listing
  // gave up on may stay in flight to a broker that does not answer.
  static std::expected<std::unique_ptr<GroupCensus>, Error> create(const ClientOptions& options,
                                                                   std::chrono::milliseconds request_timeout);
  // Never blocks for long: a listing still running after 100 ms is left to
  // finish on its own (its thread then closes the handle), so neither a
  // config reload nor shutdown waits for a hung broker.
  ~GroupCensus();
  GroupCensus(const GroupCensus&) = delete;
  GroupCensus& operator=(const GroupCensus&) = delete;

  // Starts a listing that ends by `until` (at least 1 ms from now), unless
  // one is running already: that one's answer is then the next one.
  void request(Clock::time_point until);
  // A listing is running now.
  bool busy();
  // The newest finished listing once none is running or pending, or at the
  // deadline (or cancellation) whatever is newest then; nullopt before the
  // first one finished. Compare `started` with the time of request() to
  // tell a fresh answer from an older one.
  std::optional<Census> wait(const Deadline& deadline);

  // Listings of destroyed censuses still running. A process that exits
  // while one runs must not run static destructors under it (librdkafka
  // logs through spdlog from its threads): app/runtime.cc then ends with
  // std::_Exit.
  static int abandoned_listings();

 private:
  struct State;
  explicit GroupCensus(std::shared_ptr<State> state);

  // Shared with the worker thread, which may outlive this object.
  std::shared_ptr<State> state_;
  std::thread worker_;
};

}  // namespace klag::kafka
