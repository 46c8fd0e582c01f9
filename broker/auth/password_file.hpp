// A Mosquitto password file, "user:hash" on each line (password_hash.hpp has the hashes). The
// broker reads it into a PasswordFile, immutable once built, so shard threads and the hashing
// workers share one copy without locks and a reload swaps in a new one whole. shardmq-passwd
// edits it through PasswordFileEditor, which keeps every line it does not change byte for byte.
//
// Lines are read as Mosquitto reads them: a '#' first on the line (here also after blanks)
// makes a comment, a blank line is ignored, and blanks around the user name and the hash are
// trimmed (so CRLF files work). Where Mosquitto drops a line (with a log warning, or silently
// for a line without ':') the user could never log in, which is surely not what the file's
// author meant: the file is refused instead, with FILE:LINE and the reason:
// - a line without ':', an empty user name, a missing hash, a second ':' after the hash
//   (other than the two a SCRAM-SHA-256 entry holds);
// - a hash that is malformed, of an unknown kind, or a plain-text password;
// - a user name or hash longer than 65,535 bytes (an MQTT string cannot be longer);
// - a user listed twice (Mosquitto 2.0 and 2.1 disagree on which line wins).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/auth/password_hash.hpp"
#include "broker/config/config.hpp"
#include "core/result.hpp"

namespace shardmq::broker {

struct PasswordEntry {
  std::string username;
  PasswordHash hash;
  unsigned line = 0;  // where the file defines it
};

class PasswordFile {
 public:
  // Parses `text`; `file_name` is used in errors only.
  static Result<PasswordFile, ConfigError> parse(std::string_view text, std::string_view file_name);
  // Reads and parses the file at `path`: what the broker shares between its threads.
  static Result<std::shared_ptr<const PasswordFile>, ConfigError> load(const std::string& path);

  // The user's entry; nullptr when the file does not list them.
  const PasswordEntry* find(std::string_view username) const;
  // Whether `password` is `username`'s; false for a user the file does not list. Takes as long
  // as the user's hash is costly: call it off the shard's loop.
  Result<bool, std::string> check(std::string_view username, std::string_view password) const;

  std::size_t size() const { return entries_.size(); }
  const std::vector<PasswordEntry>& entries() const { return entries_; }  // sorted by user

 private:
  std::vector<PasswordEntry> entries_;  // sorted by user name, for binary search
};

// The file as shardmq-passwd sees it: every line, so edits leave the others as they were.
// Only the structure is checked on parsing (each line a comment, blank or "user:field", no user
// twice); fields are not decoded, so a user with a broken hash can still be reset or deleted.
class PasswordFileEditor {
 public:
  static Result<PasswordFileEditor, ConfigError> parse(std::string_view text,
                                                       std::string_view file_name);
  static Result<PasswordFileEditor, ConfigError> load(const std::string& path);

  bool contains(std::string_view username) const;
  // Gives `username` the hash `encoded`: their own line is rewritten where it stands, or a line
  // is added at the end. Returns true when the user was already listed.
  bool set(std::string_view username, std::string_view encoded);
  // Removes the user's line; false when the file does not list them.
  bool remove(std::string_view username);
  // shardmq-passwd -U: every field that is not a hash yet is taken as a plain-text password
  // and replaced by its hash. A field that looks like a hash but does not decode is an error,
  // not a password (Mosquitto would hash it again). Returns how many were hashed.
  Result<std::size_t, ConfigError> hash_plain_text_passwords(PasswordHashKind kind,
                                                             std::optional<std::uint32_t> rounds);

  // The file's new contents, every line ending in '\n'.
  std::string text() const;

 private:
  struct Line {
    std::string text;      // as read, or as rewritten; without its '\n'
    std::string username;  // empty for a comment or blank line
    unsigned number = 0;   // in the file as read; 0 for a line added since
  };
  Line* find_line(std::string_view username);

  std::string file_name_;
  std::vector<Line> lines_;
};

// Replaces the contents of the file at `path` (a symbolic link's target) with `text`: written to
// a temporary file beside it and renamed over it, so a broker reloading meanwhile reads the old
// file or the new, never half of one. An existing file keeps its mode and, where the caller may
// set it, its owner; a new one is created 0600, as it holds hashes an attacker could try
// passwords against offline. Where the directory is not writable the file is rewritten in place.
Result<void, std::string> write_password_file(const std::string& path, std::string_view text);

}  // namespace shardmq::broker
