#include "metrics/gzip.h"

#include <zlib.h>

#include <stdexcept>

namespace klag::metrics {

std::string gzip_compress(std::string_view data, int level) {
  GzipWriter w(level);
  w.write(data);
  return w.finish();
}

std::string gzip_decompress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: gzip wrapper only.
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t used = out.size();
    out.resize(used + std::max<size_t>(64 * 1024, data.size() * 4));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(out.size() - used);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated input
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("not a complete gzip stream");
  return out;
}

struct GzipWriter::State {
  z_stream zs{};
};

GzipWriter::GzipWriter(int level) : state_(std::make_unique<State>()) {
  // windowBits 15 + 16 selects the gzip wrapper.
  if (deflateInit2(&state_->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
}

GzipWriter::~GzipWriter() { deflateEnd(&state_->zs); }

void GzipWriter::run(std::string_view data, int flush) {
  z_stream& zs = state_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    if (out_.size() - zs.total_out < 16 * 1024) out_.resize(out_.size() + std::max<size_t>(64 * 1024, out_.size() / 2));
    zs.next_out = reinterpret_cast<Bytef*>(out_.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out_.size() - zs.total_out);
    const int rc = deflate(&zs, flush);
    if (rc == Z_STREAM_END) return;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
    if (flush == Z_NO_FLUSH && zs.avail_in == 0) return;
  }
}

void GzipWriter::write(std::string_view data) { run(data, Z_NO_FLUSH); }

size_t GzipWriter::bytes_in() const { return state_->zs.total_in; }

std::string GzipWriter::finish() {
  run({}, Z_FINISH);
  out_.resize(state_->zs.total_out);
  out_.shrink_to_fit();
  return std::move(out_);
}

struct GzipReader::State {
  std::shared_ptr<const std::string> gzip;
  z_stream zs{};
  bool ended = false;
  std::string piece;
};

GzipReader::GzipReader(std::shared_ptr<const std::string> gzip) : state_(std::make_unique<State>()) {
  state_->gzip = std::move(gzip);
  if (inflateInit2(&state_->zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  state_->zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(state_->gzip->data()));
  state_->zs.avail_in = static_cast<uInt>(state_->gzip->size());
  state_->piece.resize(kPieceBytes);
}

GzipReader::~GzipReader() { inflateEnd(&state_->zs); }

std::string_view GzipReader::next() {
  State& s = *state_;
  if (s.ended) return {};
  s.zs.next_out = reinterpret_cast<Bytef*>(s.piece.data());
  s.zs.avail_out = static_cast<uInt>(s.piece.size());
  // Until some output or the end: a piece can also end on a gzip header.
  while (s.zs.avail_out == s.piece.size()) {
    const int rc = inflate(&s.zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      s.ended = true;
      break;
    }
    if (rc != Z_OK) throw std::runtime_error("not a complete gzip stream");
  }
  return {s.piece.data(), s.piece.size() - s.zs.avail_out};
}

}  // namespace klag::metrics
