// gzip compression of a rendered exposition (zlib, gzip wrapper).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace klag::metrics {

std::string gzip_compress(std::string_view data, int level = 5);

// The inverse; throws std::runtime_error on input that is not gzip.
std::string gzip_decompress(std::string_view data);

// Compresses a stream written in pieces, so the whole input never has to
// exist at once. Not copyable; finish() once.
class GzipWriter {
 public:
  explicit GzipWriter(int level);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  void write(std::string_view data);
  std::string finish();

 private:
  void run(std::string_view data, int flush);
  struct State;
  std::unique_ptr<State> state_;
  std::string out_;
};

}  // namespace klag::metrics
