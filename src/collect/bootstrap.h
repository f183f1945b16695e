// The bootstrap list a new admin client or timestamp reader starts from.
#pragma once

#include <string>
#include <vector>

namespace klag::collect {

// The configured bootstrap servers, then every broker the last metadata
// listed (host:port) that the configured list does not name already.
// A client replaced while its one configured broker is down (a rolling
// restart) still reaches the others. Entries are compared after trimming
// spaces; order is kept, duplicates in `learned` are dropped.
std::string merge_bootstrap(const std::string& configured, const std::vector<std::string>& learned);

// Number of addresses in a comma-separated bootstrap list.
size_t bootstrap_count(const std::string& list);

}  // namespace klag::collect
