#include "broker/auth/password_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <unordered_map>

namespace shardmq::broker {
namespace {

// An MQTT string is at most 65,535 bytes; Mosquitto drops longer user names and hashes.
constexpr std::size_t kMaxFieldBytes = 65535;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// The characters Mosquitto's trimming removes (isspace in the C locale).
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

// The lines of `text`, split at '\n'; a last line without one counts too.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto at = text.find('\n');
    lines.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return lines;
}

// One line's user and the field after the ':'; both empty for a comment or a blank line.
struct LineFields {
  std::string_view username;
  std::string_view field;
};

Result<LineFields, std::string> split_line(std::string_view raw) {
  if (raw.find('\0') != std::string_view::npos) return unexpected(std::string("NUL byte in line"));
  const auto line = trim(raw);
  if (line.empty() || line.front() == '#') return LineFields{};
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return unexpected(std::string("no ':' between user name and password hash"));
  }
  const auto username = trim(line.substr(0, colon));
  const auto field = trim(line.substr(colon + 1));
  if (username.empty()) return unexpected(std::string("empty user name before ':'"));
  if (username.size() > kMaxFieldBytes) {
    return unexpected(fmt::format("user name is longer than {} bytes", kMaxFieldBytes));
  }
  if (field.empty()) return unexpected(fmt::format("user '{}' has no password hash", username));
  if (field.size() > kMaxFieldBytes) {
    return unexpected(
        fmt::format("user '{}': password hash is longer than {} bytes", username, kMaxFieldBytes));
  }
  return LineFields{username, field};
}

// Calls `on_line(raw, fields, line_number)` for each line of `text` (fields empty for a
// comment or blank line), after checking that the line is well formed and that no user comes
// twice; a non-empty string back from it is an error for that line. Errors name file and line.
template <typename OnLine>
Result<void, ConfigError> for_each_line(std::string_view text, std::string_view file_name,
                                        OnLine&& on_line) {
  std::unordered_map<std::string_view, unsigned> first_line;  // views into `text`
  unsigned number = 0;
  for (const auto raw : split_lines(text)) {
    ++number;
    auto fields = split_line(raw);
    std::string reason;
    if (!fields) {
      reason = fields.error();
    } else if (const auto at = first_line.find(fields->username); at != first_line.end()) {
      reason = fmt::format("user '{}' is already defined on line {}", fields->username, at->second);
    } else {
      if (!fields->username.empty()) first_line.emplace(fields->username, number);
      reason = on_line(raw, *fields, number);
    }
    if (!reason.empty()) return unexpected(ConfigError{std::string(file_name), number, reason});
  }
  return {};
}

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

Result<std::string, ConfigError> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
  if (!file) return unexpected(ConfigError{path, 0, "cannot open: " + errno_text(errno)});
  std::string text;
  char chunk[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0)
    text.append(chunk, n);
  if (std::ferror(file.get())) {
    return unexpected(ConfigError{path, 0, "cannot read: " + errno_text(errno)});
  }
  return text;
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Keeps the file's inode, and so its owner and mode, at the cost of a moment in which a reader
// would see it short: for a file in a directory the caller may not write, as mosquitto_passwd
// always does.
Result<void, std::string> rewrite_in_place(const std::string& target, std::string_view text) {
  const int fd = ::open(target.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return unexpected(fmt::format("cannot open {}: {}", target, errno_text(errno)));
  const bool written = write_all(fd, text) && ::fsync(fd) == 0;
  const int error = errno;
  if (::close(fd) != 0 || !written) {
    return unexpected(fmt::format("cannot write {}: {}", target, errno_text(error)));
  }
  return {};
}

// A rename is durable only once its directory is synced; a failure here loses nothing yet.
void sync_directory_of(const std::string& target) {
  auto directory = std::filesystem::path(target).parent_path();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

// --- PasswordFile ----------------------------------------------------------------------------

Result<PasswordFile, ConfigError> PasswordFile::parse(std::string_view text,
                                                      std::string_view file_name) {
  PasswordFile file;
  auto parsed =
      for_each_line(text, file_name, [&](std::string_view, LineFields fields, unsigned number) {
        if (fields.username.empty()) return std::string();
        // Mosquitto's hashes never hold a ':' (Mosquitto ignores what follows one, which hides
        // a typo); a SCRAM entry has two, where its format puts them.
        if (!fields.field.starts_with("SCRAM-SHA-256$") &&
            fields.field.find(':') != std::string_view::npos) {
          return fmt::format("user '{}': unexpected ':' after the password hash", fields.username);
        }
        auto hash = parse_password_hash(fields.field);
        if (!hash) return fmt::format("user '{}': {}", fields.username, hash.error());
        file.entries_.push_back({std::string(fields.username), std::move(*hash), number});
        return std::string();
      });
  if (!parsed) return unexpected(parsed.error());
  std::sort(file.entries_.begin(), file.entries_.end(),
            [](const PasswordEntry& a, const PasswordEntry& b) { return a.username < b.username; });
  return file;
}

Result<std::shared_ptr<const PasswordFile>, ConfigError> PasswordFile::load(
    const std::string& path) {
  auto text = read_file(path);
  if (!text) return unexpected(text.error());
  auto file = parse(*text, path);
  if (!file) return unexpected(file.error());
  return std::make_shared<const PasswordFile>(std::move(*file));
}

const PasswordEntry* PasswordFile::find(std::string_view username) const {
  const auto at = std::lower_bound(
      entries_.begin(), entries_.end(), username,
      [](const PasswordEntry& entry, std::string_view name) { return entry.username < name; });
  return at != entries_.end() && at->username == username ? &*at : nullptr;
}

Result<bool, std::string> PasswordFile::check(std::string_view username,
                                              std::string_view password) const {
  const PasswordEntry* entry = find(username);
  if (entry == nullptr) return false;
  return check_password(entry->hash, password);
}

// --- PasswordFileEditor ----------------------------------------------------------------------

Result<PasswordFileEditor, ConfigError> PasswordFileEditor::parse(std::string_view text,
                                                                  std::string_view file_name) {
  PasswordFileEditor editor;
  editor.file_name_ = file_name;
  auto parsed =
      for_each_line(text, file_name, [&](std::string_view raw, LineFields fields, unsigned number) {
        editor.lines_.push_back({std::string(raw), std::string(fields.username), number});
        return std::string();
      });
  if (!parsed) return unexpected(parsed.error());
  return editor;
}

Result<PasswordFileEditor, ConfigError> PasswordFileEditor::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return unexpected(text.error());
  return parse(*text, path);
}

PasswordFileEditor::Line* PasswordFileEditor::find_line(std::string_view username) {
  const auto at = std::find_if(lines_.begin(), lines_.end(),
                               [&](const Line& line) { return line.username == username; });
  return at == lines_.end() ? nullptr : &*at;
}

bool PasswordFileEditor::contains(std::string_view username) const {
  return std::any_of(lines_.begin(), lines_.end(),
                     [&](const Line& line) { return line.username == username; });
}

bool PasswordFileEditor::set(std::string_view username, std::string_view encoded) {
  std::string text = fmt::format("{}:{}", username, encoded);
  if (Line* line = find_line(username)) {
    line->text = std::move(text);
    return true;
  }
  lines_.push_back({std::move(text), std::string(username), 0});
  return false;
}

bool PasswordFileEditor::remove(std::string_view username) {
  return std::erase_if(lines_, [&](const Line& line) { return line.username == username; }) > 0;
}

Result<std::size_t, ConfigError> PasswordFileEditor::hash_plain_text_passwords(
    PasswordHashKind kind, std::optional<std::uint32_t> rounds) {
  std::size_t hashed = 0;
  for (Line& line : lines_) {
    if (line.username.empty()) continue;
    auto fields = split_line(line.text);  // checked when the file was parsed
    if (!fields) continue;
    const std::string_view field = fields->field;
    auto fail = [&](std::string reason) {
      return unexpected(ConfigError{file_name_, line.number,
                                    fmt::format("user '{}': {}", line.username, reason)});
    };
    if (looks_like_password_hash(field)) {
      if (auto hash = parse_password_hash(field); !hash) {
        return fail(hash.error() + " (not hashing it as a plain-text password)");
      }
      continue;
    }
    auto encoded = hash_password(field, kind, rounds);
    if (!encoded) return fail(encoded.error());
    line.text = fmt::format("{}:{}", line.username, *encoded);
    ++hashed;
  }
  return hashed;
}

std::string PasswordFileEditor::text() const {
  std::string out;
  for (const Line& line : lines_) {
    out += line.text;
    out += '\n';
  }
  return out;
}

// --- writing ---------------------------------------------------------------------------------

Result<void, std::string> write_password_file(const std::string& path, std::string_view text) {
  std::string target = path;
  if (char* real = ::realpath(path.c_str(), nullptr)) {  // edit a link's target, keep the link
    target = real;
    std::free(real);
  }
  struct stat old {};
  const bool exists = ::stat(target.c_str(), &old) == 0;
  if (!exists && errno != ENOENT) {
    return unexpected(fmt::format("cannot read {}: {}", target, errno_text(errno)));
  }

  std::string temp = target + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());  // created 0600
  if (fd < 0) {
    if (exists && (errno == EACCES || errno == EPERM || errno == EROFS)) {
      return rewrite_in_place(target, text);
    }
    return unexpected(
        fmt::format("cannot create a temporary file beside {}: {}", target, errno_text(errno)));
  }
  auto abandon = [&](std::string_view what, int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    return unexpected(fmt::format("cannot {} {}: {}", what, temp, errno_text(error)));
  };
  if (exists && (old.st_uid != ::geteuid() || old.st_gid != ::getegid()) &&
      ::fchown(fd, old.st_uid, old.st_gid) != 0) {
    // Only root may give a file away: rather than change who owns the file (and perhaps lock
    // the broker's user out of it), keep the old inode.
    ::close(fd);
    ::unlink(temp.c_str());
    return rewrite_in_place(target, text);
  }
  if (!write_all(fd, text)) return abandon("write", errno);
  if (::fchmod(fd, exists ? old.st_mode & 07777 : 0600) != 0)
    return abandon("set the mode of", errno);
  if (::fsync(fd) != 0) return abandon("sync", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return unexpected(fmt::format("cannot write {}: {}", temp, errno_text(error)));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return unexpected(fmt::format("cannot replace {}: {}", target, errno_text(error)));
  }
  sync_directory_of(target);
  return {};
}

}  // namespace shardmq::broker
