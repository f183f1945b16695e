// klag-workload: drives a real Kafka cluster into exact, known states for
// klag-exporter's tests, demo and benchmarks. See tools/workload/README.md.
#include "commands.h"
#include "stop_signal.h"

#include <cstdio>
#include <exception>

namespace klag::workload {

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace klag::workload

int main(int argc, char** argv) {
  using namespace klag::workload;
  CLI::App app{"klag-workload: topics, messages, committed offsets and live groups for klag-exporter tests"};
  app.require_subcommand(1);
  register_ping(app);
  register_topic_commands(app);
  register_produce(app);
  register_stream(app);
  register_commit(app);
  register_member(app);
  register_consume(app);
  register_demo(app);
  register_delete_records(app);
  register_delete_group(app);
  register_scale(app);

  install_stop_handlers();
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    auto subs = app.get_subcommands();
    std::fprintf(stderr, "klag-workload %s: error: %s\n", subs.empty() ? "" : subs.front()->get_name().c_str(),
                 e.what());
    return 1;
  }
  return 0;
}
