// Internal to the mosquitto.conf reader (mosquitto_conf*.cpp, mosquitto_*directives.cpp), not
// part of its interface (mosquitto_conf.hpp): a directive and where it was given, a listener
// and the access settings as the file describes them, and the Translator that reads the
// file's lines, maps each directive and at the end of the file turns what it read into a
// Config.
#pragma once

#include <fmt/format.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/config/mosquitto_conf.hpp"
#include "core/result.hpp"

namespace shardmq::broker::mosquitto {

using Status = Result<void, ConfigError>;

constexpr std::uint32_t kMqttMaxPacket = 268435455;
// "No limit" for the byte counts Mosquitto leaves unlimited, as large as the TOML file takes.
constexpr std::uint64_t kNoByteLimit = std::numeric_limits<std::int64_t>::max();

struct Where {
  std::string file;
  unsigned line = 0;
  std::string text() const { return fmt::format("{}:{}", file, line); }
};

// The error for `w` (mosquitto_conf_reader.cpp defines these three).
Unexpected<ConfigError> fail(const Where& w, std::string reason);

// The first word of `s`, and what follows it (blanks removed).
std::pair<std::string_view, std::string_view> split_word(std::string_view s);

// A whole number. Mosquitto reads numbers with atoi, so "10x" is 10 and "x" is 0 there;
// here both are errors.
Result<std::int64_t, ConfigError> number(const Where& where, std::string_view name,
                                         std::string_view word, std::int64_t min, std::int64_t max);

// One directive: its name and everything after it on the line.
struct Directive {
  Where where;
  std::string_view name;
  std::string_view rest;  // leading and trailing blanks removed
};

// A string setting and where it was given: Mosquitto refuses a second value for one.
struct Named {
  std::string value;
  Where where;
  bool set() const { return !value.empty(); }
};

// Who may connect and what they may do: the broker's (per_listener_settings false) or one
// listener's (true).
struct Access {
  Named password_file;
  Named acl_file;
  std::optional<bool> allow_anonymous;
  Where allow_anonymous_at;
};

// A listener as the file describes it, before it becomes one ListenerConfig per address.
struct FileListener {
  Where where;  // its `listener` line; for the default listener the line that configured it
  std::uint16_t port = 1883;
  std::string address;  // empty: every address
  int domain = AF_UNSPEC;
  bool websockets = false;
  std::uint32_t max_connections = 0;
  Named certfile, keyfile, cafile, ciphers, ciphersuites;
  std::string tls_min_version = "1.2";
  bool require_certificate = false;
  Where require_certificate_at;
  bool use_identity_as_username = false;
  bool use_subject_as_username = false;
  Where identity_at;
  Access access;            // per_listener_settings true only
  bool configured = false;  // the default listener: Mosquitto opens it only when set
};

// The log_type bits that map to shardmq log levels (subscribe, unsubscribe, websockets: none).
enum LogType : unsigned { kDebug = 1, kError = 2, kWarning = 4, kNotice = 8, kInformation = 16 };
constexpr unsigned kDefaultLogTypes = kError | kWarning | kNotice | kInformation;

class Translator {
 public:
  // mosquitto_conf.cpp: Mosquitto's defaults, and the end of the file.
  Translator();
  Result<MosquittoConf, ConfigError> finish();

  // mosquitto_conf_reader.cpp: the lines of one file.
  Status read_text(std::string_view text, const std::string& file, int level);
  Status read_file(const std::string& path, int level, const Where& from);

 private:
  using Handler = Status (Translator::*)(const Directive&);
  struct Entry {
    std::string_view name;
    Handler handler;
  };

  // -- mosquitto_conf_reader.cpp: values, read as Mosquitto reads them, and where a
  // directive applies ----------------------------------------------------------------------

  Result<std::string_view, ConfigError> word(const Directive& d);
  Result<std::string, ConfigError> text(const Directive& d);
  Status text_once(const Directive& d, Named& out);
  Result<bool, ConfigError> boolean(const Directive& d);
  Result<std::int64_t, ConfigError> integer(const Directive& d, std::int64_t min, std::int64_t max);
  void warn(const Where& w, std::string what);
  void ignored(const Directive& d);
  FileListener& listener_for(const Directive& d, bool opens_default);
  Access& access_for(const Directive& d, bool opens_default);
  Status include_dir(const Directive& d, int level);

  // -- mosquitto_directives.cpp: the directive table, and the broker-wide directives -------

  static const Entry kHandlers[];
  Status apply(const Directive& d, int level);

  Status max_inflight_messages(const Directive& d);
  Status max_queued_messages(const Directive& d);
  Status max_queued_bytes(const Directive& d);
  Status message_size_limit(const Directive& d);
  Status max_packet_size(const Directive& d);
  Status max_keepalive(const Directive& d);
  Status retain_available(const Directive& d);
  Status sys_interval(const Directive& d);
  Status global_max_connections(const Directive& d);
  Status persistence(const Directive& d);
  Status persistence_path(const Directive& d);
  Status queue_qos0_messages(const Directive& d);
  Status upgrade_outgoing_qos(const Directive& d);
  Status set_tcp_nodelay(const Directive& d);
  Status ignored_if(const Directive& d, bool unsupported);
  Status log_dest(const Directive& d);
  Status log_type(const Directive& d);

  // -- mosquitto_listener_directives.cpp: the listener and access directives ---------------

  Status listener(const Directive& d);
  Status port(const Directive& d);
  Status bind_address(const Directive& d);
  Status protocol(const Directive& d);
  Status socket_domain(const Directive& d);
  Status max_connections(const Directive& d);
  Status certfile(const Directive& d);
  Status keyfile(const Directive& d);
  Status cafile(const Directive& d);
  Status ciphers(const Directive& d);
  Status ciphers_tls13(const Directive& d);
  Status tls_version(const Directive& d);
  Status tls_keyform(const Directive& d);
  Status require_certificate(const Directive& d);
  Status use_identity_as_username(const Directive& d);
  Status use_subject_as_username(const Directive& d);
  Status use_username_as_clientid(const Directive& d);
  Status max_qos(const Directive& d);
  Status password_file(const Directive& d);
  Status acl_file(const Directive& d);
  Status allow_anonymous(const Directive& d);
  Status allow_zero_length_clientid(const Directive& d);
  Status check_retain_source(const Directive& d);
  Status per_listener_settings(const Directive& d);

  // -- mosquitto_conf.cpp: the end of the file: listeners, access, logging -----------------

  bool anonymous_default() const;
  Result<std::vector<std::string>, ConfigError> addresses(const FileListener& l);
  Status add_listener(const FileListener& f);
  Status resolve_access(const std::vector<FileListener*>& all);
  void warn_dropped_access(const Access& a);
  static Status one_file(const Named& given, const Named*& chosen, std::string_view what);
  void resolve_logging();

  Config config_;
  std::vector<std::string> warnings_;
  std::set<std::string, std::less<>> reported_;  // ignored directives already reported
  std::string main_file_;

  std::deque<FileListener> listeners_;  // a deque: current_ points into it
  FileListener default_listener_;
  FileListener* current_ = nullptr;  // the last `listener` of the file being read
  bool local_only_ = true;           // no listener, port or bind_address anywhere
  bool port_set_ = false;
  Named bind_address_;

  bool per_listener_ = false;
  bool security_seen_ = false;  // per_listener_settings true must come before these
  Access access_;               // per_listener_settings false

  std::map<std::string, Named, std::less<>> persistence_;  // persistence_file, _location

  bool log_dest_set_ = false;
  bool log_dest_any_ = false;
  bool log_file_set_ = false;
  bool log_type_set_ = false;
  unsigned log_types_ = kDefaultLogTypes;
};

}  // namespace shardmq::broker::mosquitto
