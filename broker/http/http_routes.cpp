#include "broker/http/http_routes.hpp"

#include <fmt/format.h>

#include "broker/metrics/metrics_exposition.hpp"

namespace shardmq::broker {

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

HttpResponse http_error(int status, std::string_view why) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = fmt::format("{} {}: {}\n", status, http_reason_phrase(status), why);
  r.close = status != 404 && status != 401;
  if (status == 401)
    r.extra_headers = "WWW-Authenticate: Basic realm=\"shardmq\", charset=\"UTF-8\"\r\n";
  if (status == 405) r.extra_headers = "Allow: GET, HEAD\r\n";
  return r;
}

HttpResponse route_http_request(const io::HttpRequestHead& req, const HttpRouteContext& ctx) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = http_error(405, "only GET and HEAD are served");
    r.close = false;
    return r;
  }
  // No request body is read: one announced would be taken for the next request.
  if (auto len = req.field("Content-Length");
      (len && *len != "0") || req.field("Transfer-Encoding"))
    return http_error(413, "a GET or HEAD request carries no body here");
  HttpResponse r;
  if (req.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = render_metrics(ctx.sources);
    return r;
  }
  if (req.path == "/status.json") {
    r.content_type = "application/json";
    r.body = render_status_json(ctx.sources, ctx.config, ctx.io_backend);
    return r;
  }
  if (ctx.assets)
    if (const HttpAsset* a = ctx.assets(req.path)) {
      r.content_type = a->content_type;
      r.static_body = a->body;
      return r;
    }
  return http_error(404, "no such page (try /, /metrics or /status.json)");
}

std::string http_response_head(const HttpResponse& r, bool keep_alive) {
  // Every answer is live: nothing may be cached (a dashboard reload must show now).
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n{}Connection: {}\r\n\r\n",
      r.status, http_reason_phrase(r.status), r.content_type, r.body_view().size(), r.extra_headers,
      keep_alive ? "keep-alive" : "close");
}

}  // namespace shardmq::broker
