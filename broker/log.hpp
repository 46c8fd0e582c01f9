// Logging: one line per call, written with a single write(2) so lines from different
// shards never interleave. Levels are filtered before formatting. Lines are text
// ("2026-12-02T05:20:00.123Z info [shard 0] message") or, for machines, one JSON object each
// ({"ts":"2026-12-02T05:20:00.123Z","level":"info","thread":"shard 0","msg":"message"}).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace shardmq::broker {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
enum class LogFormat { text, json };

std::optional<LogLevel> parse_log_level(std::string_view s);
const char* log_level_name(LogLevel level);  // as parse_log_level reads it
void set_log_level(LogLevel level);
LogLevel log_level();
std::optional<LogFormat> parse_log_format(std::string_view s);
const char* log_format_name(LogFormat format);
void set_log_format(LogFormat format);

// One log line as it is written, newline included (log_write's formatting).
std::string format_log_line(LogFormat format, std::string_view timestamp, LogLevel level,
                            std::string_view thread, std::string_view message);

// Names the calling thread in its log lines ("main", "shard 0", ...).
void set_log_thread_name(std::string_view name);

void log_write(LogLevel level, std::string_view message);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  if (level < log_level()) return;
  log_write(level, fmt::format(f, std::forward<Args>(args)...));
}

#define SHARDMQ_LOG_FN(name, lvl)                            \
  template <typename... Args>                                \
  void name(fmt::format_string<Args...> f, Args&&... args) { \
    log(LogLevel::lvl, f, std::forward<Args>(args)...);      \
  }
SHARDMQ_LOG_FN(log_debug, debug)
SHARDMQ_LOG_FN(log_info, info)
SHARDMQ_LOG_FN(log_warn, warn)
SHARDMQ_LOG_FN(log_error, error)
#undef SHARDMQ_LOG_FN

}  // namespace shardmq::broker
