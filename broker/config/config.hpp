// Broker configuration: the embedded defaults, a TOML file (--config) on top of them,
// and command-line flags on top of both. Errors name the file, the line and the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/log.hpp"
#include "core/result.hpp"
#include "io/loop.hpp"
#include "io/tls_context.hpp"

namespace shardmq::broker {

// http: not MQTT: /metrics, /status.json and the dashboard (docs/operations.md).
enum class ListenerKind { mqtt, mqtts, ws, wss, http };

// Which member of a shared-subscription group gets a message (docs/mqtt_behaviour.md).
enum class SharedStrategy : std::uint8_t { round_robin, sticky, local_first };
std::optional<SharedStrategy> parse_shared_strategy(std::string_view name);
std::string_view shared_strategy_name(SharedStrategy s);

struct ListenerConfig {
  ListenerKind kind = ListenerKind::mqtt;
  std::string host = "0.0.0.0";
  std::uint16_t port = 1883;
  std::string path;                   // WebSocket path (ws/wss)
  std::uint32_t max_connections = 0;  // 0: unlimited
  io::TlsOptions tls;                 // mqtts and wss
  std::vector<std::string> origins;   // ws/wss Origin allow-list; empty: any
  bool proxy_protocol = false;        // expect a PROXY v1/v2 header first
  // Access (docs/security.md). Unset: as [auth] says.
  std::optional<bool> allow_anonymous;
  bool use_identity_as_username = false;  // TLS: the client certificate's CN is the user name
  bool use_subject_as_username = false;   // TLS: its subject (RFC 2253) is the user name
  bool basic_auth = false;                // http: HTTP basic auth against [auth] password_file

  bool operator==(const ListenerConfig&) const = default;
  bool uses_tls() const { return kind == ListenerKind::mqtts || kind == ListenerKind::wss; }
  bool uses_websocket() const { return kind == ListenerKind::ws || kind == ListenerKind::wss; }
  bool serves_mqtt() const { return kind != ListenerKind::http; }
};

// Who may connect and what they may do (docs/security.md).
struct AuthConfig {
  std::string password_file;  // Mosquitto's format (mosquitto_passwd, shardmq-passwd); "": none
  std::string acl_file;       // Mosquitto's ACL format; "": every client may do anything
  std::optional<bool> allow_anonymous;  // unset: true without a password file, false with one
  std::uint32_t hash_workers = 2;       // threads verifying password hashes, off the shards
  // Failed logins allowed per source address in the window (on each shard), after which
  // that address is refused without checking until the window has passed. 0: no limit.
  std::uint32_t max_login_failures = 10;
  std::uint32_t login_failure_window_s = 60;
  // How long a CONNECT may wait for its verdict (hashes queue up in a login storm); the
  // connect timeout stops counting once the CONNECT has arrived.
  std::uint32_t login_timeout_s = 60;
  // MQTT 5 enhanced authentication with SCRAM-SHA-256 against the password file's
  // SCRAM-SHA-256$ entries (shardmq-passwd -H scram-sha-256). Needs a password file.
  bool scram = true;

  bool anonymous_allowed(const std::optional<bool>& listener_setting) const {
    return listener_setting.value_or(allow_anonymous.value_or(password_file.empty()));
  }
};

struct Config {
  unsigned shards = 0;  // 0: one per usable core
  io::BackendChoice io = io::BackendChoice::auto_detect;
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;  // --log-format / broker.log_format
  // Receive buffers per shard: the io_uring loop lends the kernel up to `recv_buffers`
  // buffers of `recv_buffer_size` bytes, made as the load needs them (io/recv_buffer_ring.hpp;
  // the epoll loop reads into one).
  std::uint32_t recv_buffers = 1024;
  std::uint32_t recv_buffer_size = 16384;
  std::vector<ListenerConfig> listeners;  // empty means the default mqtt://0.0.0.0:1883

  // Limits.
  std::uint32_t max_packet_size = 268435455;    // bytes, the MQTT maximum
  std::uint32_t max_outbound_bytes = 4u << 20;  // per connection, queued for sending
  std::uint32_t connect_timeout_ms = 10000;     // socket open without CONNECT
  std::uint16_t max_keepalive = 65535;          // seconds; larger requests are lowered (v5)
  std::uint16_t max_inflight = 32;              // outgoing QoS 1/2 per client
  std::uint32_t max_queued_messages = 1000;     // per offline/slow session
  std::uint64_t max_queued_bytes = 16u << 20;   // per session
  // A live subscriber with a full queue pauses the publishers whose messages wait for it;
  // one that acknowledges nothing for this long stops doing so, and its excess is dropped.
  std::uint32_t slow_consumer_timeout_ms = 2000;
  std::uint32_t max_retained_messages = 1000000;
  std::uint64_t max_retained_bytes = 1ull << 30;
  std::uint32_t sys_interval_s = 10;         // $SYS publish interval, 0 disables
  std::uint32_t shutdown_timeout_ms = 5000;  // graceful stop bound
  std::uint32_t max_connections = 0;         // per broker, 0: unlimited
  // Topics and subscriptions a client may use (0: no limit beyond MQTT's own).
  std::uint32_t max_topic_length = 0;    // bytes of a PUBLISH topic or SUBSCRIBE filter
  std::uint32_t max_topic_levels = 0;    // '/'-separated levels of either
  std::uint32_t max_subscriptions = 0;   // filters one session may hold
  std::uint32_t message_size_limit = 0;  // largest PUBLISH (and will) payload, bytes; 0: any
  bool retain_available = true;          // false: PUBLISH or will with the retain flag refused
  // Rates (docs/configuration.md). Token buckets; 0: unlimited. A burst of 0 is one
  // second's worth of the rate.
  std::uint32_t max_connect_rate = 0;   // CONNECTs per second per source address (per shard)
  std::uint32_t max_connect_burst = 0;  // CONNECTs one address may make at once
  std::uint32_t max_publish_rate = 0;   // PUBLISH packets per second per connection
  std::uint32_t max_publish_burst = 0;
  std::uint32_t max_publish_bandwidth = 0;  // PUBLISH bytes per second per connection
  std::uint32_t max_publish_bandwidth_burst = 0;
  // MQTT 5 Topic Aliases per connection: the client's (advertised in CONNACK as Topic Alias
  // Maximum) and the broker's own to the client (up to the client's maximum). 0: none.
  std::uint16_t max_topic_aliases = 10;
  std::uint16_t max_topic_aliases_out = 10;  // at most 64 (a linear scan per delivery)
  // MQTT 5 Response Information for clients that ask: this prefix and their client
  // identifier. "": none sent.
  std::string response_information;

  // MQTT 5 shared subscriptions ($share/{group}/{filter}); off: refused (0x9E / 0x80).
  bool shared_subscriptions = true;
  SharedStrategy shared_strategy = SharedStrategy::round_robin;

  AuthConfig auth;

  // [storage] (docs/operations.md): what survives a restart, and when a PUBACK may go.
  enum class Durability : std::uint8_t { none, sync, batched };
  Durability durability = Durability::none;
  std::string storage_path = "shardmq-data";  // the RocksDB directory
  std::uint32_t flush_interval_ms = 100;      // "batched": the WAL is synced at least this often
  // A store RocksDB reports corrupt: stop with a message (refuse), or rename it aside and
  // start empty (move_aside). Any other failure to open it always stops start-up.
  enum class OnCorruption : std::uint8_t { refuse, move_aside };
  OnCorruption on_corruption = OnCorruption::refuse;

  // Whether CONNECTs are checked at all: a password file, anonymous clients refused on some
  // listener, or user names taken from client certificates.
  bool authenticates() const {
    bool any = !auth.password_file.empty() || !auth.anonymous_allowed(std::nullopt);
    for (const ListenerConfig& l : listeners)
      any |= !auth.anonymous_allowed(l.allow_anonymous) || l.use_identity_as_username ||
             l.use_subject_as_username;
    return any;
  }

  // The configuration the broker runs with when given no file.
  static Config defaults();
};

struct ConfigError {
  std::string file;  // empty for command-line errors
  unsigned line = 0;
  std::string reason;
  std::string to_string() const;
};

// Parses a TOML document; `file_name` is used in errors only.
Result<Config, ConfigError> parse_config(std::string_view toml_text, std::string_view file_name,
                                         Config base = Config::defaults());
Result<Config, ConfigError> load_config_file(const std::string& path,
                                             Config base = Config::defaults());

// "mqtt://host:port", "mqtts://...", "ws://host:port/path", "wss://...", or "host:port".
Result<ListenerConfig, std::string> parse_listener_url(std::string_view url);
std::string listener_url(const ListenerConfig& l);

// "none", "sync", "batched".
std::optional<Config::Durability> parse_durability(std::string_view s);
const char* durability_name(Config::Durability d);
std::optional<Config::OnCorruption> parse_on_corruption(std::string_view s);
const char* on_corruption_name(Config::OnCorruption o);

// The embedded default configuration file, as documented in docs/configuration.md.
std::string_view default_config_text();

}  // namespace shardmq::broker
