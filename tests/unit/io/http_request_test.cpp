#include <catch2/catch.hpp>

#include <string>

#include "io/http_request.hpp"

using namespace shardmq::io;

TEST_CASE("http request head: a GET with fields, query and CRLF lines") {
  std::string req =
      "GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9883\r\nAccept:  text/plain \r\n\r\nrest";
  auto r = parse_http_request_head(req, 8192);
  REQUIRE(r.status == HttpParseStatus::complete);
  CHECK(r.head.method == "GET");
  CHECK(r.head.target == "/metrics?name[]=x");
  CHECK(r.head.path == "/metrics");
  CHECK(r.head.minor_version == 1);
  CHECK(r.head.field("host") == "127.0.0.1:9883");
  CHECK(r.head.field("ACCEPT") == "text/plain");
  CHECK_FALSE(r.head.field("Authorization"));
  CHECK(r.head.consumed == req.size() - 4);
}

TEST_CASE("http request head: waits for the blank line, byte by byte") {
  std::string req = "GET / HTTP/1.0\r\n\r\n";
  for (std::size_t n = 0; n < req.size(); ++n)
    CHECK(parse_http_request_head(std::string_view(req).substr(0, n), 8192).status ==
          HttpParseStatus::need_more);
  auto r = parse_http_request_head(req, 8192);
  REQUIRE(r.status == HttpParseStatus::complete);
  CHECK(r.head.minor_version == 0);  // HTTP/1.0 needs no Host
}

TEST_CASE("http request head: bare LF line ends are accepted") {
  auto r = parse_http_request_head("HEAD /status.json HTTP/1.1\nHost: x\n\n", 8192);
  REQUIRE(r.status == HttpParseStatus::complete);
  CHECK(r.head.method == "HEAD");
  CHECK(r.head.path == "/status.json");
}

TEST_CASE("http request head: too large without an end, and too large with one") {
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(200, 'a');
  CHECK(parse_http_request_head(big, 100).status == HttpParseStatus::too_large);
  CHECK(parse_http_request_head(big + "\r\n\r\n", 100).status == HttpParseStatus::too_large);
  CHECK(parse_http_request_head(big + "\r\n\r\n", 8192).status == HttpParseStatus::complete);
}

TEST_CASE("http request head: malformed heads are bad requests, each with a reason") {
  for (const char* req : {
           "GET\r\n\r\n",                                   // no target
           "GET /x\r\n\r\n",                                // no version
           "GET /x HTTP/2.0\r\nHost: x\r\n\r\n",            // not 1.x
           "GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n",  // absolute form: not served
           "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",             // method not a token
           "GET / HTTP/1.1\r\nHost x\r\n\r\n",              // field without ':'
           "GET / HTTP/1.1\r\nHost : x\r\n\r\n",            // blank before ':' (RFC 9112 5.1)
           "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",         // 1.1 without Host
       }) {
    INFO(req);
    auto r = parse_http_request_head(req, 8192);
    CHECK(r.status == HttpParseStatus::bad_request);
    CHECK_FALSE(r.error.empty());
  }
}
