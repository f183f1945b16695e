// gzip compression of a rendered exposition (zlib, gzip wrapper).
#pragma once

#include <string>
#include <string_view>

namespace klag::metrics {

std::string gzip_compress(std::string_view data, int level = 5);

}  // namespace klag::metrics
