#include "io/http_request.hpp"

#include <algorithm>

namespace shardmq::io {

namespace {

bool is_tchar(char ch) {  // RFC 9110 section 5.6.2 token characters
  auto c = static_cast<unsigned char>(ch);
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

HttpParseResult bad(std::string_view why) {
  HttpParseResult r;
  r.status = HttpParseStatus::bad_request;
  r.error = why;
  return r;
}

}  // namespace

std::string_view http_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool http_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::optional<std::string_view> HttpRequestHead::field(std::string_view name) const {
  for (const Field& f : fields)
    if (http_iequals(f.name, name)) return f.value;
  return std::nullopt;
}

HttpParseResult parse_http_request_head(std::string_view received, std::size_t max_head) {
  // Lines end in CRLF; a bare LF is accepted too (RFC 9112 section 2.2).
  std::size_t end = received.find("\n\r\n");
  std::size_t head_len = end == std::string_view::npos ? end : end + 3;
  if (std::size_t lf = received.find("\n\n"); lf != std::string_view::npos && lf + 2 < head_len)
    head_len = lf + 2;
  if (head_len == std::string_view::npos || head_len > max_head) {
    if (received.size() > max_head || head_len != std::string_view::npos) {
      HttpParseResult r;
      r.status = HttpParseStatus::too_large;
      return r;
    }
    return {};
  }
  HttpParseResult r;
  HttpRequestHead& h = r.head;
  h.consumed = head_len;
  std::string_view rest = received.substr(0, head_len);
  auto next_line = [&rest]() {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view line = next_line();
  // request-line = method SP request-target SP HTTP-version
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad("malformed request line");
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(h.method)) return bad("malformed method");
  if (h.target.empty() || h.target.front() != '/') return bad("the request target must be a path");
  if (h.target.find_first_of(" \t") != std::string_view::npos) return bad("malformed target");
  if (version == "HTTP/1.1")
    h.minor_version = 1;
  else if (version == "HTTP/1.0")
    h.minor_version = 0;
  else
    return bad("unsupported HTTP version");
  h.path = h.target.substr(0, h.target.find('?'));
  for (line = next_line(); !line.empty(); line = next_line()) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad("malformed header field");
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return bad("malformed header field name");  // no blank before ':'
    h.fields.push_back({name, http_trim(line.substr(colon + 1))});
  }
  if (h.minor_version == 1 && !h.field("Host")) return bad("HTTP/1.1 request without Host");
  r.status = HttpParseStatus::complete;
  return r;
}

}  // namespace shardmq::io
