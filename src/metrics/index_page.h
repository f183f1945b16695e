// The live web page served at "/": one static, self-contained HTML file
// (inline CSS and JavaScript, nothing from a CDN) that polls
// /api/v1/groups every few seconds and renders clusters, groups and, on
// click, a group's partitions. Data is only ever inserted as text, never as
// markup.
#pragma once

#include <memory>
#include <string>

namespace klag::metrics {

const std::shared_ptr<const std::string>& index_page();

}  // namespace klag::metrics
