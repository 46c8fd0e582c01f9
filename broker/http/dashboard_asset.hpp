// How the http:// listener finds the dashboard's embedded files (broker/http/dashboard/):
// a lookup by request path, "/" being the page.
#pragma once

#include <string_view>

namespace shardmq::broker {

struct HttpAsset {
  std::string_view content_type;
  std::string_view body;
};
using DashboardAssetLookup = const HttpAsset* (*)(std::string_view path);

// The dashboard built into the binary (generated from broker/http/dashboard/ by
// broker/http/embed_assets.py): "/" and "/index.html" are the page, "/dashboard.js" and
// "/dashboard.css" its script and style; anything else is null.
const HttpAsset* find_dashboard_asset(std::string_view path);

}  // namespace shardmq::broker
