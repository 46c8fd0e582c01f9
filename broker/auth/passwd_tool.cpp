// shardmq-passwd: creates and edits Mosquitto password files, with mosquitto_passwd's command
// line, messages and exit codes, so scripts written for one run the other. Where it differs
// (docs/security.md): it writes the file whole or not at all, keeps comments and blank lines,
// refuses user names the broker would read differently, leaves hashed entries alone on -U, and
// writes 1,000 PBKDF2 rounds by default.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "broker/auth/password_file.hpp"
#include "broker/auth/password_hash.hpp"

namespace {

using shardmq::Result;
using shardmq::unexpected;
using namespace shardmq::broker;

// mosquitto_passwd's exit codes.
constexpr int kDone = 0;
constexpr int kFailed = 1;
constexpr int kPasswordsDiffer = 2;

constexpr std::size_t kMaxStringBytes = 65535;  // an MQTT string

void print_usage() {
  std::fputs(
      "shardmq-passwd creates and edits password files for shardmq and Mosquitto.\n"
      "\n"
      "Usage: shardmq-passwd [-H sha512-pbkdf2 | argon2id | sha512 | scram-sha-256] [-I rounds] "
      "[-c | -D] "
      "passwordfile username\n"
      "       shardmq-passwd [-H sha512-pbkdf2 | argon2id | sha512 | scram-sha-256] [-I rounds] "
      "[-c] -b "
      "passwordfile username password\n"
      "       shardmq-passwd [-H ...] -U passwordfile\n"
      " -b : run in batch mode: the password comes from the command line (where ps and the\n"
      "      shell's history can see it).\n"
      " -c : create a new password file. This will overwrite existing files.\n"
      " -D : delete the username rather than adding/updating its password.\n"
      " -H : the hash for new passwords:\n"
      "        sha512-pbkdf2  PBKDF2-HMAC-SHA512 ($7$), the default; Mosquitto 2.0 reads it.\n"
      "        argon2id       argon2id, stronger; Mosquitto 2.1 reads it, 2.0 does not.\n"
      "        sha512         one round of salted SHA-512 ($6$), for Mosquitto 1.x only: weak.\n"
      "        scram-sha-256  SCRAM-SHA-256 keys (RFC 5803): for MQTT 5 SCRAM logins and plain\n"
      "                       passwords alike; shardmq only, Mosquitto does not read it.\n"
      " -I : PBKDF2 rounds for sha512-pbkdf2 (default 1000) and scram-sha-256 (default 4096).\n"
      " -U : update a plain text password file to use hashed passwords; entries already\n"
      "      hashed are kept as they are.\n"
      "\n"
      "See docs/security.md for more information.\n",
      stdout);
}

int fail(std::string_view message) {
  fmt::print(stderr, "Error: {}\n", message);
  return kFailed;
}

// A password in memory: wiped when no longer needed.
struct Secret {
  std::string value;
  Secret() = default;
  explicit Secret(std::string v) : value(std::move(v)) {}
  Secret(Secret&& other) noexcept : value(std::move(other.value)) {}
  Secret& operator=(Secret&& other) noexcept {
    value.swap(other.value);
    return *this;
  }
  ~Secret() { OPENSSL_cleanse(value.data(), value.size()); }
};

enum class Mode { add_or_update, create, remove, hash_plain_text };

struct Options {
  Mode mode = Mode::add_or_update;
  bool batch = false;
  PasswordHashKind kind = PasswordHashKind::pbkdf2_sha512;
  std::optional<std::uint32_t> rounds;  // -I; unset: the hash kind's default
  std::string file;
  std::string username;
  Secret password;  // batch mode only
};

// --- the terminal ----------------------------------------------------------------------------

// While echo is off, a signal must not leave the terminal that way.
termios saved_terminal;
volatile std::sig_atomic_t terminal_quiet = 0;

extern "C" void restore_terminal_and_die(int signal_number) {
  if (terminal_quiet) tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// One line from standard input, not echoed when it is a terminal; empty at end of input.
Secret read_line_quietly(const char* prompt) {
  // Echo goes off before the prompt shows: a fast typist (or a script that answers the
  // prompt) never has a character echoed.
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_terminal) == 0;
  if (tty) {
    termios quiet = saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    terminal_quiet = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::fputs(prompt, stdout);
  std::fflush(stdout);
  // Room for the longest password and one byte more (to tell it is too long), so the buffer is
  // never reallocated, leaving an unwiped copy behind.
  Secret line;
  line.value.reserve(kMaxStringBytes + 1);
  int c = 0;
  while ((c = std::getchar()) != EOF && c != '\n') {
    if (line.value.size() <= kMaxStringBytes) line.value.push_back(static_cast<char>(c));
  }
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    terminal_quiet = 0;
  }
  std::fputs("\n", stdout);  // the Enter typed was not echoed
  if (!line.value.empty() && line.value.back() == '\r') line.value.pop_back();
  return line;
}

// The password, typed twice. Fails with the exit code to return.
Result<Secret, int> prompt_password() {
  std::signal(SIGINT, restore_terminal_and_die);
  std::signal(SIGTERM, restore_terminal_and_die);
  std::signal(SIGHUP, restore_terminal_and_die);
  Secret first = read_line_quietly("Password: ");
  if (first.value.empty()) return unexpected(fail("Empty password."));
  const Secret second = read_line_quietly("Reenter password: ");
  if (first.value != second.value) {
    fmt::print(stderr, "Error: Passwords do not match.\n");
    return unexpected(kPasswordsDiffer);
  }
  if (first.value.size() > kMaxStringBytes) {
    return unexpected(fail("Password must be less than 65536 characters long."));
  }
  return first;
}

// --- the command line ------------------------------------------------------------------------

// What is wrong with `name` as a user name, or nullptr: mosquitto_passwd's checks, and three of
// ours for names the broker would read as another name or as a comment.
const char* username_problem(std::string_view name) {
  if (name.size() > kMaxStringBytes) return "Username must be less than 65536 characters long.";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "Username must not contain control characters.";
  }
  if (name.find(':') != std::string_view::npos) {
    return "Username must not contain the ':' character.";
  }
  if (name.empty()) return "Username must not be empty.";
  if (name.front() == ' ' || name.back() == ' ') {
    return "Username must not begin or end with a space (the broker trims it when reading).";
  }
  if (name.front() == '#') return "Username must not begin with '#' (the line reads as a comment).";
  return nullptr;
}

// Fails with the exit code to return (usage printed, or an error).
Result<Options, int> parse_arguments(int argc, char** argv) {
  if (argc == 1) {
    print_usage();
    return unexpected(kFailed);
  }
  Options options;
  bool create = false, remove = false, hash_plain_text = false;
  int at = 1;
  for (; at < argc; ++at) {
    const std::string_view arg = argv[at];
    if (arg == "-H" || arg == "-I") {
      if (at + 1 == argc) {
        return unexpected(
            fail(fmt::format("{} argument given but not enough other arguments.", arg)));
      }
      const std::string_view value = argv[++at];
      if (arg == "-H") {
        auto kind = parse_hash_kind_name(value);
        if (!kind) return unexpected(fail(kind.error()));
        options.kind = *kind;
      } else {
        const long rounds = std::strtol(argv[at], nullptr, 10);  // as mosquitto_passwd's atoi
        if (rounds < 1 || rounds > 0x7fffffff) {
          return unexpected(fail("Number of iterations must be > 0."));
        }
        options.rounds = static_cast<std::uint32_t>(rounds);
      }
    } else if (arg == "-b") {
      options.batch = true;
    } else if (arg == "-c") {
      create = true;
    } else if (arg == "-D") {
      remove = true;
    } else if (arg == "-U") {
      hash_plain_text = true;
    } else if (arg == "-h" || arg == "--help") {
      print_usage();
      return unexpected(kDone);
    } else if (arg.size() > 1 && arg.front() == '-') {
      return unexpected(fail(fmt::format("Unknown option '{}'.", arg)));
    } else {
      break;
    }
  }
  if (create && remove) return unexpected(fail("-c and -D cannot be used together."));
  if (create && hash_plain_text) return unexpected(fail("-c and -U cannot be used together."));
  if (remove && hash_plain_text) return unexpected(fail("-D and -U cannot be used together."));
  if (remove && options.batch) return unexpected(fail("-b and -D cannot be used together."));
  if (hash_plain_text && options.batch) {
    return unexpected(fail("-b and -U cannot be used together."));
  }

  const int positional = argc - at;
  const int wanted = hash_plain_text ? 1 : options.batch ? 3 : 2;
  if (positional != wanted) {
    if (create) {
      return unexpected(fail(options.batch ? "-c argument given but password file, username, or "
                                             "password missing."
                                           : "-c argument given but password file or username "
                                             "missing."));
    }
    if (remove) return unexpected(fail("-D argument given but password file or username missing."));
    if (hash_plain_text) return unexpected(fail("-U argument given but password file missing."));
    print_usage();
    return unexpected(kFailed);
  }
  options.mode = create            ? Mode::create
                 : remove          ? Mode::remove
                 : hash_plain_text ? Mode::hash_plain_text
                                   : Mode::add_or_update;
  options.file = argv[at];
  if (!hash_plain_text) {
    options.username = argv[at + 1];
    if (const char* problem = username_problem(options.username)) return unexpected(fail(problem));
  }
  if (options.batch) {
    options.password.value = argv[at + 2];
    if (options.password.value.size() > kMaxStringBytes) {
      return unexpected(fail("Password must be less than 65536 characters long."));
    }
  }
  return options;
}

// --- the work --------------------------------------------------------------------------------

// mosquitto_passwd opens the file for reading and writing before it asks for a password.
Result<PasswordFileEditor, int> open_existing(const std::string& file) {
  if (::access(file.c_str(), R_OK | W_OK) != 0) {
    return unexpected(fail(fmt::format("Unable to open password file {}. {}.", file,
                                       std::error_code(errno, std::generic_category()).message())));
  }
  auto editor = PasswordFileEditor::load(file);
  if (!editor) {
    // Unlike mosquitto_passwd, which writes out the lines before a bad one and drops the rest.
    return unexpected(
        fail(fmt::format("{} (the file is left unchanged)", editor.error().to_string())));
  }
  return std::move(*editor);
}

// Sets the user's password in `editor`: from the command line (-b) or typed twice.
int set_password(const Options& options, PasswordFileEditor& editor) {
  std::optional<Secret> typed;
  if (!options.batch) {
    auto password = prompt_password();
    if (!password) return password.error();
    typed = std::move(*password);
  }
  const std::string& password = typed ? typed->value : options.password.value;
  auto encoded = hash_password(password, options.kind, options.rounds);
  if (!encoded) return fail(fmt::format("Unable to hash password: {}.", encoded.error()));
  editor.set(options.username, *encoded);
  return kDone;
}

int write_back(const Options& options, const PasswordFileEditor& editor) {
  const std::string text = editor.text();
  if (auto written = write_password_file(options.file, text); !written) {
    return fail(fmt::format("Unable to write password file: {}.", written.error()));
  }
  // The edit went through; say so if some other line still keeps the broker from loading it.
  if (auto check = PasswordFile::parse(text, options.file); !check) {
    fmt::print(stderr, "Warning: the broker will refuse this file: {}\n",
               check.error().to_string());
  }
  return kDone;
}

int run(const Options& options) {
  // -c starts from nothing, as mosquitto_passwd does, whatever the file held.
  Result<PasswordFileEditor, int> editor = PasswordFileEditor();
  if (options.mode != Mode::create) editor = open_existing(options.file);
  if (!editor) return editor.error();
  switch (options.mode) {
    case Mode::create:
    case Mode::add_or_update:
      if (const int rc = set_password(options, *editor); rc != kDone) return rc;
      break;
    case Mode::remove:
      if (!editor->remove(options.username)) {
        fmt::print(stderr, "Warning: User {} not found in password file.\n", options.username);
        return kFailed;
      }
      break;
    case Mode::hash_plain_text:
      if (auto hashed = editor->hash_plain_text_passwords(options.kind, options.rounds); !hashed) {
        return fail(fmt::format("{} (the file is left unchanged)", hashed.error().to_string()));
      }
      break;
  }
  return write_back(options, *editor);
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_arguments(argc, argv);
  if (!options) return options.error();
  return run(*options);
}
