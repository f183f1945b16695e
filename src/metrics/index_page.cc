#include "metrics/index_page.h"

#include <string_view>

#include "metrics/render.h"

namespace klag::metrics {
namespace {

void append_html(std::string& out, std::string_view s) {
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
}

}  // namespace

std::string render_index_html(const std::vector<collect::ClusterStatus>& clusters) {
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>klag-exporter</title>"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.up{color:#080}.down{color:#b00}</style>"
      "</head><body>\n<h1>klag-exporter</h1>\n"
      "<p><a href=\"/metrics\">/metrics</a> &middot; <a href=\"/health\">/health</a> &middot; "
      "<a href=\"/ready\">/ready</a> &middot; <a href=\"/leader\">/leader</a></p>\n"
      "<table><tr><th>cluster</th><th>status</th><th>groups</th><th>partitions</th>"
      "<th>last cycle (s)</th><th>last error</th></tr>\n";
  for (const auto& c : clusters) {
    out += "<tr><td>";
    append_html(out, c.name);
    out += "</td><td class=\"";
    if (!c.first_cycle_done) {
      out += "down\">starting";
    } else {
      out += c.up ? "up\">up" : (c.stale ? "down\">down (serving stale data)" : "down\">down");
    }
    out += "</td><td>";
    append_int(out, c.lag ? static_cast<int64_t>(c.lag->groups.size()) : 0);
    out += "</td><td>";
    append_int(out, c.lag ? static_cast<int64_t>(c.lag->partitions.size()) : 0);
    out += "</td><td>";
    append_double(out, c.last_cycle_seconds);
    out += "</td><td>";
    append_html(out, c.last_error);
    out += "</td></tr>\n";
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace klag::metrics
