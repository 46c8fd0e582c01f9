// What the http:// listener answers to one request head: pure, no sockets (http_server.cpp
// moves the bytes). GET and HEAD only: /metrics (Prometheus), /status.json (the
// dashboard's summary) and the dashboard's own files, embedded in the binary.
#pragma once

#include <string>
#include <string_view>

#include "broker/http/dashboard_asset.hpp"
#include "io/http_request.hpp"

namespace shardmq::broker {

struct Config;
struct MetricsSources;

struct HttpResponse {
  int status = 200;
  std::string_view content_type;
  std::string body;                // made for this request, or empty and:
  std::string_view static_body;    // an embedded file
  std::string_view extra_headers;  // each ending in \r\n
  bool close = false;              // answer, then close the connection
  std::string_view body_view() const { return body.empty() ? static_body : body; }
};

struct HttpRouteContext {
  const MetricsSources& sources;
  const Config& config;
  std::string_view io_backend;
  DashboardAssetLookup assets;  // null: no dashboard (404)
};

HttpResponse route_http_request(const io::HttpRequestHead& request, const HttpRouteContext& ctx);
// An error answer (400, 401, 413, 431, 503) with a one-line plain-text body.
HttpResponse http_error(int status, std::string_view why);
// The status line, headers and (for a HEAD request, none of) the body, as sent.
std::string http_response_head(const HttpResponse& r, bool keep_alive);
std::string_view http_reason_phrase(int status);

}  // namespace shardmq::broker
