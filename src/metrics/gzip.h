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
  // Bytes written so far (the uncompressed size).
  size_t bytes_in() const;

 private:
  void run(std::string_view data, int flush);
  struct State;
  std::unique_ptr<State> state_;
  std::string out_;
};

// Inflates a gzip buffer piece by piece, so the whole text never exists at
// once (a plain-text scrape of a large exposition). Keeps the buffer alive.
// Not copyable.
class GzipReader {
 public:
  static constexpr size_t kPieceBytes = 32 * 1024;

  explicit GzipReader(std::shared_ptr<const std::string> gzip);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // The next piece of text (at most kPieceBytes), valid until the next
  // call; empty once the stream has ended. Throws std::runtime_error on
  // input that is not a complete gzip stream.
  std::string_view next();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace klag::metrics
