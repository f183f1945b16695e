// SIGINT/SIGTERM turn into a flag that every long-running loop checks, so
// members leave their group and producers flush before the process exits.
#pragma once

#include <chrono>

namespace klag::workload {

void install_stop_handlers();
bool stop_requested();
// For failures in one demo thread: make the others wind down too.
void request_stop();
// Sleeps for `d`, waking early (within 50 ms) once a stop is requested.
void sleep_unless_stopped(std::chrono::steady_clock::duration d);

}  // namespace klag::workload
