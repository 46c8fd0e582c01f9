#include "broker/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <string>

namespace shardmq::broker {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
thread_local std::string t_name = "main";

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

void log_write(LogLevel level, std::string_view message) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm parts{};
  gmtime_r(&tv.tv_sec, &parts);
  std::string line =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} [{}] {}\n", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  tv.tv_usec / 1000, log_level_name(level), t_name, message);
  // One write per line: atomic with respect to other threads' lines for pipes and files.
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

}  // namespace shardmq::broker
