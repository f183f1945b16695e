#include "group_offsets.h"

#include <charconv>
#include <utility>

namespace klag::workload {
namespace {

template <class Int>
Int parse_int(std::string_view s, const std::string& context) {
  Int value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    throw WorkloadError("bad number '" + std::string(s) + "' in " + context);
  }
  return value;
}

PartitionListPtr to_list(const std::vector<OffsetSpec>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  }
  return list;
}

std::string name(const rd_kafka_topic_partition_t& p) { return std::string(p.topic) + ":" + std::to_string(p.partition); }

}  // namespace

OffsetSpec parse_offset_spec(const std::string& text) {
  auto last = text.rfind(':');
  auto mid = last == std::string::npos || last == 0 ? std::string::npos : text.rfind(':', last - 1);
  if (mid == std::string::npos || mid == 0) {
    throw WorkloadError("expected TOPIC:PARTITION:OFFSET, got '" + text + "'");
  }
  std::string_view sv(text);
  OffsetSpec spec{text.substr(0, mid), parse_int<int32_t>(sv.substr(mid + 1, last - mid - 1), text),
                  parse_int<int64_t>(sv.substr(last + 1), text)};
  if (spec.partition < 0 || spec.offset < 0) throw WorkloadError("negative partition or offset in '" + text + "'");
  return spec;
}

std::vector<OffsetSpec> parse_offset_specs(const std::vector<std::string>& texts) {
  std::vector<OffsetSpec> specs;
  for (const auto& t : texts) {
    auto spec = parse_offset_spec(t);
    // Two offsets for one partition: only the last would stick.
    for (const auto& s : specs) {
      if (s.topic == spec.topic && s.partition == spec.partition) {
        throw WorkloadError("partition " + s.topic + ":" + std::to_string(s.partition) + " given twice");
      }
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

void commit_offsets(rd_kafka_t* consumer, const std::vector<OffsetSpec>& offsets) {
  auto list = to_list(offsets);
  // async=0: returns after the coordinator answered; per-partition results
  // are written back into `list`.
  check(rd_kafka_commit(consumer, list.get(), 0), "commit");
  for (int i = 0; i < list->cnt; ++i) check(list->elems[i].err, "commit " + name(list->elems[i]));
}

void verify_committed(rd_kafka_t* consumer, const std::vector<OffsetSpec>& offsets) {
  auto list = to_list(offsets);
  check(rd_kafka_committed(consumer, list.get(), 10000), "read back committed offsets");
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    check(p.err, "read back " + name(p));
    if (p.offset != offsets[i].offset) {
      throw WorkloadError("committed offset of " + name(p) + " reads back as " + std::to_string(p.offset) +
                          ", not " + std::to_string(offsets[i].offset));
    }
  }
}

}  // namespace klag::workload
