// Reading the lines of a mosquitto.conf and of the files its include_dir names: one
// directive per line, each file starting at Mosquitto's default listener again (the
// per-file state); the values of a directive read as Mosquitto reads them; and which
// listener or access settings a directive applies to.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "broker/config/mosquitto_conf_state.hpp"
#include "core/utf8.hpp"

namespace shardmq::broker::mosquitto {

Unexpected<ConfigError> fail(const Where& w, std::string reason) {
  return unexpected(ConfigError{w.file, w.line, std::move(reason)});
}

namespace {

bool blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

// Mosquitto's include_dir order: letters compared without case first, then upper case
// before lower case of the same letter (00.conf, 01.conf, A.conf, a.conf, B.conf, b.conf).
bool mosquitto_order(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  for (; i < a.size() && i < b.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::toupper(x) != std::toupper(y)) return std::toupper(x) < std::toupper(y);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

Result<std::string, ConfigError> read_whole_file(const std::string& path, const Where& from) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return unexpected(ConfigError{path, 0, "is a directory, not a configuration file"});
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (from.line == 0) return unexpected(ConfigError{path, 0, "cannot open the file"});
    return fail(from, fmt::format("cannot open {}", path));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
  std::size_t end = 0;
  while (end < s.size() && !blank(s[end]))
    ++end;
  return {s.substr(0, end), trim(s.substr(end))};
}

Result<std::int64_t, ConfigError> number(const Where& where, std::string_view name,
                                         std::string_view word, std::int64_t min,
                                         std::int64_t max) {
  std::string_view digits = word;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    return fail(where, fmt::format("{} must be a whole number, not '{}'", name, word));
  if (v < min || v > max)
    return fail(where,
                fmt::format("{} {} is out of range (Mosquitto takes {} to {})", name, v, min, max));
  return v;
}

// -- the lines of a file -----------------------------------------------------------------

Status Translator::read_text(std::string_view text, const std::string& file, int level) {
  if (level == 0) main_file_ = file;
  // Each file starts at the default listener again, as in Mosquitto (one cur_listener per
  // file read); the including file carries on with its own after include_dir.
  FileListener* outer = current_;
  current_ = nullptr;
  unsigned line_no = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
      line.remove_suffix(1);
    // Mosquitto takes only a '#' in the first column as a comment and splits on spaces;
    // a comment after blanks and tabs between words are taken too.
    std::string_view body = trim(line);
    if (body.empty() || body.front() == '#') continue;
    std::size_t name_end = 0;
    while (name_end < body.size() && !blank(body[name_end]))
      ++name_end;
    Directive d{Where{file, line_no}, body.substr(0, name_end), trim(body.substr(name_end))};
    if (auto r = apply(d, level); !r) return r;
  }
  current_ = outer;
  return {};
}

Status Translator::read_file(const std::string& path, int level, const Where& from) {
  auto text = read_whole_file(path, from);
  if (!text) return unexpected(text.error());
  return read_text(*text, path, level);
}

Status Translator::include_dir(const Directive& d, int level) {
  if (level > 0) {
    // Mosquitto reads include_dir from the main file only.
    warn(d.where, "include_dir in an included file is ignored, as Mosquitto does");
    return {};
  }
  if (d.rest.empty()) return fail(d.where, "empty include_dir value");
  const std::string dir(d.rest);
  std::error_code ec;
  std::vector<std::string> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 5 && name.ends_with(".conf")) files.push_back(dir + "/" + name);
  }
  if (ec) return fail(d.where, fmt::format("cannot read include_dir {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end(), mosquitto_order);
  for (const std::string& f : files) {
    std::error_code same_ec;
    if (std::filesystem::equivalent(f, main_file_, same_ec))
      return fail(d.where, fmt::format("include_dir {} holds the main configuration file", dir));
    if (auto r = read_file(f, level + 1, d.where); !r) return r;
  }
  return {};
}

// -- values, read as Mosquitto reads them ------------------------------------------------

// The first word of the value. Mosquitto ignores anything after it; shardmq says so
// unless it is a comment.
Result<std::string_view, ConfigError> Translator::word(const Directive& d) {
  auto [value, after] = split_word(d.rest);
  if (value.empty()) return fail(d.where, fmt::format("empty {} value", d.name));
  if (!after.empty() && after.front() != '#')
    warn(d.where,
         fmt::format("'{}' after the value of {} is ignored, as Mosquitto does", after, d.name));
  return value;
}

// The rest of the line: file names may hold spaces (and '#', as in Mosquitto).
Result<std::string, ConfigError> Translator::text(const Directive& d) {
  if (d.rest.empty()) return fail(d.where, fmt::format("empty {} value", d.name));
  if (core::check_mqtt_utf8(d.rest) != core::Utf8Status::Ok)
    return fail(d.where, fmt::format("{} value is not valid UTF-8", d.name));
  return std::string(d.rest);
}

Status Translator::text_once(const Directive& d, Named& out) {
  auto v = text(d);
  if (!v) return unexpected(v.error());
  if (out.set())
    return fail(d.where,
                fmt::format("duplicate {} value (the first is on {})", d.name, out.where.text()));
  out = Named{*v, d.where};
  return {};
}

Result<bool, ConfigError> Translator::boolean(const Directive& d) {
  auto w = word(d);
  if (!w) return unexpected(w.error());
  if (*w == "true" || *w == "1") return true;
  if (*w == "false" || *w == "0") return false;
  return fail(d.where, fmt::format("{} must be true or false, not '{}'", d.name, *w));
}

Result<std::int64_t, ConfigError> Translator::integer(const Directive& d, std::int64_t min,
                                                      std::int64_t max) {
  auto w = word(d);
  if (!w) return unexpected(w.error());
  return number(d.where, d.name, *w, min, max);
}

void Translator::warn(const Where& w, std::string what) {
  warnings_.push_back(fmt::format("{}: {}", w.text(), what));
}

void Translator::ignored(const Directive& d) {
  if (!reported_.insert(std::string(d.name)).second) return;
  warn(d.where, fmt::format("directive {} is not supported (ignored)", d.name));
}

// -- where a directive applies -----------------------------------------------------------

// The listener a listener setting belongs to. `opens_default`: whether this setting makes
// Mosquitto open its default listener when given before any `listener` line.
FileListener& Translator::listener_for(const Directive& d, bool opens_default) {
  if (current_) return *current_;
  if (opens_default && !default_listener_.configured) {
    default_listener_.configured = true;
    default_listener_.where = d.where;
  }
  return default_listener_;
}

// The access settings a security directive belongs to.
Access& Translator::access_for(const Directive& d, bool opens_default) {
  security_seen_ = true;
  if (!per_listener_) return access_;
  return listener_for(d, opens_default).access;
}

}  // namespace shardmq::broker::mosquitto
