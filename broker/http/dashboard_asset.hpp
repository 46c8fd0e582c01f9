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

}  // namespace shardmq::broker
