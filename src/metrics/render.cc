#include "metrics/render.h"

#include <charconv>
#include <cmath>

#include "metrics/families.h"
#include "metrics/gzip.h"

namespace klag::metrics {
namespace {

// Writes the text exposition: name{labels} value, one line per series.
// With a GzipWriter, the text is handed to it in pieces of about 64 KB, so
// the whole exposition never exists uncompressed.
class TextSink final : public SeriesSink {
 public:
  explicit TextSink(std::string& out, GzipWriter* gz = nullptr) : out_(out), gz_(gz) {}

  void family(const Family& f) override {
    name_ = f.name;
    out_ += "# HELP ";
    out_ += f.name;
    out_ += ' ';
    out_ += f.help;
    out_ += "\n# TYPE ";
    out_ += f.name;
    out_ += f.type == MetricType::counter ? " counter\n" : " gauge\n";
  }
  void begin_series() override {
    out_ += name_;
    labels_open_ = false;
  }
  void label(std::string_view name, std::string_view value) override {
    open_label(name);
    append_escaped_label_value(out_, value);
    out_ += '"';
  }
  void label(std::string_view name, int64_t value) override {
    open_label(name);
    append_int(out_, value);
    out_ += '"';
  }
  void value(int64_t v) override {
    close_labels();
    append_int(out_, v);
    out_ += '\n';
    maybe_flush();
  }
  void value(double v) override {
    close_labels();
    append_double(out_, v);
    out_ += '\n';
    maybe_flush();
  }
  void flush() {
    if (gz_) {
      gz_->write(out_);
      out_.clear();
    }
  }

 private:
  void open_label(std::string_view name) {
    out_ += labels_open_ ? ',' : '{';
    labels_open_ = true;
    out_ += name;
    out_ += "=\"";
  }
  void close_labels() { out_ += labels_open_ ? "} " : " "; }
  void maybe_flush() {
    if (gz_ && out_.size() >= 64 * 1024) flush();
  }

  std::string& out_;
  GzipWriter* gz_;
  std::string_view name_;
  bool labels_open_ = false;
};

}  // namespace

void append_escaped_label_value(std::string& out, std::string_view value) {
  // Runs without a character to escape (nearly every value) are appended
  // whole: one append per value instead of one per character.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string_view escaped;
    switch (value[i]) {
      case '\\': escaped = "\\\\"; break;
      case '"': escaped = "\\\""; break;
      case '\n': escaped = "\\n"; break;
      default: continue;
    }
    out.append(value.substr(run, i - run));
    out.append(escaped);
    run = i + 1;
  }
  out.append(value.substr(run));
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
}

std::string render_prometheus(const std::vector<collect::ClusterStatus>& clusters) {
  return render_prometheus(clusters, ExporterStats{});
}

std::string render_prometheus(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats) {
  size_t estimate = 4096;
  for (const auto& c : clusters) {
    if (c.lag) {
      estimate += 160 * (c.lag->partitions.size() * 3 + c.lag->partition_lags.size() * 7 +
                         c.lag->topic_lags.size() + c.lag->groups.size() * 5);
    }
  }
  std::string out;
  out.reserve(estimate);
  TextSink sink(out);
  emit_metrics(clusters, sink, stats);
  return out;
}

GzipExposition render_prometheus_gzip(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats,
                                      int level) {
  GzipWriter gz(level);
  std::string buffer;
  buffer.reserve(80 * 1024);
  TextSink sink(buffer, &gz);
  emit_metrics(clusters, sink, stats);
  sink.flush();
  const size_t text_bytes = gz.bytes_in();
  return {gz.finish(), text_bytes};
}

}  // namespace klag::metrics
