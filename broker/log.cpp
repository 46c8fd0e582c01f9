#include "broker/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "broker/limits/token_bucket.hpp"
#include "core/utf8.hpp"

namespace shardmq::broker {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
std::atomic<LogFormat> g_format{LogFormat::text};
thread_local std::string t_name = "main";

// Each thread writes at most kLinesPerSecond lines a second after a burst of kLineBurst
// (errors always pass): a flood of bad clients costs a count, not the disk.
constexpr std::uint32_t kLinesPerSecond = 100;
constexpr std::uint64_t kLineBurst = 1000;
thread_local TokenBucket t_lines;
thread_local std::uint64_t t_suppressed = 0;

}  // namespace

const char* log_level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      break;
  }
  return "off";
}

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  if (s == "off" || s == "none") return LogLevel::off;
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  g_level.store(level, std::memory_order_relaxed);
}
LogLevel log_level() {
  return g_level.load(std::memory_order_relaxed);
}
void set_log_thread_name(std::string_view name) {
  t_name = name;
}

std::optional<LogFormat> parse_log_format(std::string_view s) {
  if (s == "text") return LogFormat::text;
  if (s == "json") return LogFormat::json;
  return std::nullopt;
}
const char* log_format_name(LogFormat f) {
  return f == LogFormat::json ? "json" : "text";
}
void set_log_format(LogFormat format) {
  g_format.store(format, std::memory_order_relaxed);
}

namespace {

// A JSON string (RFC 8259): quote, backslash and control characters escaped; other bytes
// as they are when the whole is well-formed UTF-8 (what MQTT strings are), else each byte
// from 0x80 up as the code point of that value, so the line stays valid JSON.
void append_json_string(std::string& out, std::string_view s) {
  const bool utf8 = core::check_mqtt_utf8(s) != core::Utf8Status::IllFormed;
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace

std::string format_log_line(LogFormat format, std::string_view timestamp, LogLevel level,
                            std::string_view thread, std::string_view message) {
  if (format == LogFormat::text)
    return fmt::format("{} {} [{}] {}\n", timestamp, log_level_name(level), thread, message);
  std::string line = "{\"ts\":";
  append_json_string(line, timestamp);
  line += ",\"level\":";
  append_json_string(line, log_level_name(level));
  line += ",\"thread\":";
  append_json_string(line, thread);
  line += ",\"msg\":";
  append_json_string(line, message);
  line += "}\n";
  return line;
}

void log_write(LogLevel level, std::string_view message) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm parts{};
  gmtime_r(&tv.tv_sec, &parts);
  const std::string ts = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                                     parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                                     parts.tm_hour, parts.tm_min, parts.tm_sec, tv.tv_usec / 1000);
  const LogFormat format = g_format.load(std::memory_order_relaxed);
  const std::uint64_t now_ms =
      static_cast<std::uint64_t>(tv.tv_sec) * 1000 + static_cast<std::uint64_t>(tv.tv_usec / 1000);
  if (level < LogLevel::error && !t_lines.try_take(1, now_ms, kLinesPerSecond, kLineBurst)) {
    ++t_suppressed;
    return;
  }
  std::string line;
  if (t_suppressed) {
    line = format_log_line(
        format, ts, LogLevel::warn, t_name,
        fmt::format("{} log lines not written: over {} a second", t_suppressed, kLinesPerSecond));
    t_suppressed = 0;
  }
  line += format_log_line(format, ts, level, t_name, message);
  // One write per line: atomic with respect to other threads' lines for pipes and files.
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

}  // namespace shardmq::broker
