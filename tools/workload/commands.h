// Each subcommand lives in its own cmd_<name>.cc and registers its options
// and action on the CLI11 app. Actions throw WorkloadError on failure.
#pragma once

#include "client.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace klag::workload {

void register_ping(CLI::App& app);
void register_topic_commands(CLI::App& app);  // create-topic, delete-topic
void register_produce(CLI::App& app);
void register_stream(CLI::App& app);
void register_commit(CLI::App& app);
void register_member(CLI::App& app);
void register_consume(CLI::App& app);
void register_demo(CLI::App& app);
void register_delete_records(CLI::App& app);
void register_delete_group(CLI::App& app);
void register_scale(CLI::App& app);  // benchmarks: a large estate, fast

// --bootstrap (required) and -X key=value, shared by every subcommand.
inline void add_connect_options(CLI::App* sub, ConnectOptions& connect) {
  sub->add_option("--bootstrap", connect.bootstrap, "Kafka bootstrap servers, HOST:PORT")->required();
  sub->add_option("-X,--client-config", connect.client_config,
                  "extra librdkafka setting key=value, e.g. for SASL (repeatable)");
}

// Options must outlive parsing: each subcommand keeps them in a shared_ptr
// captured by its callback.
template <class Options>
std::shared_ptr<Options> make_options() {
  return std::make_shared<Options>();
}

// Prints one result line on stdout and flushes it at once: tests read these
// lines through pipes while the process keeps running.
void print_line(const std::string& line);

}  // namespace klag::workload
