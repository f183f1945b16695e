// Creates the librdkafka consumer handles the exporter uses. Internal to
// src/kafka.
#pragma once

#include <expected>
#include <string>
#include <utility>
#include <vector>

#include "kafka/admin_client.h"
#include "kafka/handles.h"

namespace klag::kafka {

// Applies, in order: our defaults, the user's consumer_properties, then
// `overrides` and bootstrap.servers, which correctness depends on. Errors
// name the property but never echo its value (it may be a password).
std::expected<KafkaPtr, Error> make_consumer_handle(const ClientOptions& options,
                                                    const std::vector<std::pair<std::string, std::string>>& overrides,
                                                    const std::string& client_id = "klag-exporter");

}  // namespace klag::kafka
