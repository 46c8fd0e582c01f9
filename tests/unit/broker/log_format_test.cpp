// format_log_line: the text line and the JSON object, with what a message may carry escaped.
#include <catch2/catch.hpp>

#include <string>

#include "broker/log.hpp"

namespace shardmq::broker {
namespace {

TEST_CASE("log line: text and json", "[broker][log]") {
  const char* ts = "2026-12-02T05:20:00.123Z";
  CHECK(format_log_line(LogFormat::text, ts, LogLevel::info, "shard 0", "hello") ==
        "2026-12-02T05:20:00.123Z info [shard 0] hello\n");
  CHECK(format_log_line(LogFormat::json, ts, LogLevel::warn, "main", "hello") ==
        "{\"ts\":\"2026-12-02T05:20:00.123Z\",\"level\":\"warn\",\"thread\":\"main\","
        "\"msg\":\"hello\"}\n");
  // Quotes, backslashes, newline, tab and other control characters are escaped; UTF-8
  // stays as it is.
  CHECK(format_log_line(LogFormat::json, ts, LogLevel::error, "t",
                        "a\"b\\c\nd\te\x01"
                        "f é") ==
        "{\"ts\":\"2026-12-02T05:20:00.123Z\",\"level\":\"error\",\"thread\":\"t\","
        "\"msg\":\"a\\\"b\\\\c\\nd\\te\\u0001f é\"}\n");
  // Bytes that are not UTF-8 become code points of their value: the line stays JSON.
  CHECK(format_log_line(LogFormat::json, ts, LogLevel::info, "t", "x\xff") ==
        "{\"ts\":\"2026-12-02T05:20:00.123Z\",\"level\":\"info\",\"thread\":\"t\","
        "\"msg\":\"x\\u00ff\"}\n");
}

TEST_CASE("log format: names", "[broker][log]") {
  CHECK(parse_log_format("json") == LogFormat::json);
  CHECK(parse_log_format("text") == LogFormat::text);
  CHECK_FALSE(parse_log_format("xml"));
  CHECK(std::string(log_format_name(LogFormat::json)) == "json");
}

}  // namespace
}  // namespace shardmq::broker
