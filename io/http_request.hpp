// An HTTP/1.x request head (RFC 9112 section 2-5): the request line and the header fields,
// parsed from the bytes received so far. Used by the metrics and dashboard listener, which
// serves GET and HEAD only: no request body is read (a request that announces one is
// refused), no chunked encoding, no pipelining beyond one request a connection.
//
// Hand-written rather than a library: a request head is a few lines of text, the one
// Debian-packaged C parser (nodejs http-parser) is archived upstream, and llhttp is not
// packaged for Debian 12.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace shardmq::io {

struct HttpRequestHead {
  std::string_view method;  // "GET"
  std::string_view target;  // "/metrics?x=1" as sent
  std::string_view path;    // "/metrics": the target without its query
  int minor_version = 1;    // HTTP/1.0 or HTTP/1.1
  struct Field {
    std::string_view name, value;  // value trimmed of surrounding blanks
  };
  std::vector<Field> fields;
  std::size_t consumed = 0;  // bytes of the head, the blank line included

  // The first field of that name (names compare case-insensitively), or nullopt.
  std::optional<std::string_view> field(std::string_view name) const;
};

enum class HttpParseStatus { need_more, complete, bad_request, too_large };

struct HttpParseResult {
  HttpParseStatus status = HttpParseStatus::need_more;
  HttpRequestHead head;    // complete only; its views point into `received`
  std::string_view error;  // bad_request: what was wrong
};

// Looks at what arrived. need_more until the blank line ends the head; too_large once more
// than `max_head` bytes came without one.
HttpParseResult parse_http_request_head(std::string_view received, std::size_t max_head);

// Shared with the WebSocket upgrade (http_upgrade.cpp): header names compare
// case-insensitively; field values lose their surrounding blanks.
bool http_iequals(std::string_view a, std::string_view b);
std::string_view http_trim(std::string_view s);

}  // namespace shardmq::io
