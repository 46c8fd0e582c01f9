#include "broker/config/config.hpp"

#include "broker/config/toml_reader.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

namespace shardmq::broker {
namespace {

constexpr std::string_view kDefaultConfig = R"(# shardmq embedded default configuration.
# Every key is optional; docs/configuration.md describes each one.

[broker]
shards = 0            # 0: one shard per usable core (at most 64)
io = "auto"           # auto | uring | epoll
log_level = "info"    # debug | info | warn | error | off
log_format = "text"   # text | json (one JSON object a line)
recv_buffers = 1024       # most receive buffers per shard (io_uring; made as the load needs)
recv_buffer_size = 16384  # bytes each

[[listener]]
url = "mqtt://0.0.0.0:1883"

[limits]
max_packet_size = 268435455
max_outbound_bytes = 4194304
connect_timeout_ms = 10000
max_keepalive = 65535
max_inflight = 32
max_queued_messages = 1000
max_queued_bytes = 16777216
slow_consumer_timeout_ms = 2000
max_connections = 0
shutdown_timeout_ms = 5000
max_topic_length = 0       # bytes of a topic or filter; 0: up to MQTT's 65,535
max_topic_levels = 0       # levels of a topic or filter; 0: any
max_subscriptions = 0      # filters one session may hold; 0: any
message_size_limit = 0     # largest PUBLISH (and will) payload, bytes; 0: any
retain_available = true    # false: PUBLISH and wills with the retain flag refused
max_connect_rate = 0       # CONNECTs per second per source address (on each shard); 0: any
max_connect_burst = 0      # CONNECTs at once per address; 0: one second's worth
max_publish_rate = 0       # PUBLISH per second per connection, then reads pause; 0: any
max_publish_burst = 0      # 0: one second's worth
max_publish_bandwidth = 0  # PUBLISH bytes per second per connection; 0: any
max_publish_bandwidth_burst = 0  # bytes; 0: one second's worth
max_topic_aliases = 10     # MQTT 5 Topic Aliases a client may set per connection; 0: none
max_topic_aliases_out = 10 # Topic Aliases the broker assigns per connection (0-64); 0: none

[mqtt]
response_information = ""  # MQTT 5 Response Information prefix (+ client id); "": none
shared_subscriptions = true               # $share/{group}/{filter}; false: refused (0x9E)
shared_subscription_strategy = "round_robin"  # round_robin | sticky | local_first

[retained]
max_messages = 1000000
max_bytes = 1073741824

[storage]             # docs/operations.md
durability = "none"   # none (memory only) | sync (PUBACK after fsync) | batched (flushed later)
path = "shardmq-data" # the data directory (RocksDB), relative to the working directory
flush_interval_ms = 100  # batched: the longest an acknowledged message waits for its fsync
on_corruption = "refuse"  # a corrupt store: refuse (stop, say why) | move-aside (keep it, start empty)

[sys]
interval = 10         # seconds between $SYS publishes; 0 disables them

[auth]
password_file = ""    # Mosquitto password file (mosquitto_passwd or shardmq-passwd); "": none
acl_file = ""         # Mosquitto ACL file; "": every client may publish and subscribe anywhere
# allow_anonymous: true without a password file, false once one is set (per listener too)
hash_workers = 2      # threads that verify password hashes, off the shards' loops
max_login_failures = 10      # per source address (and shard) in the window; 0: no limit
login_failure_window_s = 60
login_timeout_s = 60  # how long a CONNECT may wait for its password check
scram = true          # MQTT 5 SCRAM-SHA-256 logins against the password file's SCRAM entries
)";

void read_broker(Reader& r, const toml::table& t, Config& c) {
  r.only(t, "broker",
         {"shards", "io", "log_level", "log_format", "recv_buffers", "recv_buffer_size"});
  r.integer(t, "broker", "shards", c.shards, 0, 64);  // interest masks are 64 bits
  r.integer(t, "broker", "recv_buffers", c.recv_buffers, 16, 32768);
  r.integer(t, "broker", "recv_buffer_size", c.recv_buffer_size, 1024, 1 << 20);
  if (auto* s = r.string(t, "broker", "io")) {
    if (*s == "auto")
      c.io = io::BackendChoice::auto_detect;
    else if (*s == "uring")
      c.io = io::BackendChoice::uring;
    else if (*s == "epoll")
      c.io = io::BackendChoice::epoll;
    else
      r.fail(*t.get("io"), fmt::format("broker.io must be auto, uring or epoll, not '{}'", *s));
  }
  if (auto* s = r.string(t, "broker", "log_level")) {
    if (auto l = parse_log_level(*s))
      c.log_level = *l;
    else
      r.fail(*t.get("log_level"),
             fmt::format("broker.log_level '{}' is not one of debug, info, warn, error, off", *s));
  }
  if (auto* s = r.string(t, "broker", "log_format")) {
    if (auto f = parse_log_format(*s))
      c.log_format = *f;
    else
      r.fail(*t.get("log_format"), fmt::format("broker.log_format '{}' is not text or json", *s));
  }
}

void read_storage(Reader& r, const toml::table& t, Config& c) {
  r.only(t, "storage", {"durability", "path", "flush_interval_ms", "on_corruption"});
  if (auto* s = r.string(t, "storage", "durability")) {
    if (auto d = parse_durability(*s))
      c.durability = *d;
    else
      r.fail(*t.get("durability"),
             fmt::format("storage.durability must be none, sync or batched, not '{}'", *s));
  }
  if (auto* s = r.string(t, "storage", "path")) {
    if (s->empty())
      r.fail(*t.get("path"), "storage.path must not be empty");
    else
      c.storage_path = *s;
  }
  r.integer(t, "storage", "flush_interval_ms", c.flush_interval_ms, 1, 60000);
  if (auto* s = r.string(t, "storage", "on_corruption")) {
    if (auto o = parse_on_corruption(*s))
      c.on_corruption = *o;
    else
      r.fail(*t.get("on_corruption"),
             fmt::format("storage.on_corruption must be refuse or move-aside, not '{}'", *s));
  }
}

void read_limits(Reader& r, const toml::table& t, Config& c) {
  r.only(t, "limits",
         {"max_packet_size",
          "max_outbound_bytes",
          "connect_timeout_ms",
          "max_keepalive",
          "max_inflight",
          "max_queued_messages",
          "max_queued_bytes",
          "slow_consumer_timeout_ms",
          "max_connections",
          "shutdown_timeout_ms",
          "message_size_limit",
          "retain_available",
          "max_topic_length",
          "max_topic_levels",
          "max_subscriptions",
          "max_connect_rate",
          "max_connect_burst",
          "max_publish_rate",
          "max_publish_burst",
          "max_publish_bandwidth",
          "max_publish_bandwidth_burst",
          "max_topic_aliases",
          "max_topic_aliases_out"});
  r.integer(t, "limits", "max_packet_size", c.max_packet_size, 16, 268435455);
  r.integer(t, "limits", "max_outbound_bytes", c.max_outbound_bytes, 1024);
  r.integer(t, "limits", "connect_timeout_ms", c.connect_timeout_ms, 100);
  r.integer(t, "limits", "max_keepalive", c.max_keepalive, 1);
  r.integer(t, "limits", "max_inflight", c.max_inflight, 1);
  r.integer(t, "limits", "max_queued_messages", c.max_queued_messages);
  r.integer(t, "limits", "max_queued_bytes", c.max_queued_bytes, 0,
            std::numeric_limits<std::int64_t>::max());
  r.integer(t, "limits", "slow_consumer_timeout_ms", c.slow_consumer_timeout_ms, 100, 3600000);
  r.integer(t, "limits", "max_connections", c.max_connections);
  r.integer(t, "limits", "shutdown_timeout_ms", c.shutdown_timeout_ms, 0, 600000);
  r.integer(t, "limits", "message_size_limit", c.message_size_limit, 0, 268435455);
  r.integer(t, "limits", "max_topic_length", c.max_topic_length, 0, 65535);
  r.integer(t, "limits", "max_topic_levels", c.max_topic_levels, 0, 65535);
  r.integer(t, "limits", "max_subscriptions", c.max_subscriptions);
  r.integer(t, "limits", "max_connect_rate", c.max_connect_rate);
  r.integer(t, "limits", "max_connect_burst", c.max_connect_burst);
  r.integer(t, "limits", "max_publish_rate", c.max_publish_rate);
  r.integer(t, "limits", "max_publish_burst", c.max_publish_burst);
  r.integer(t, "limits", "max_publish_bandwidth", c.max_publish_bandwidth);
  r.integer(t, "limits", "max_publish_bandwidth_burst", c.max_publish_bandwidth_burst);
  if (auto v = r.boolean(t, "limits", "retain_available")) c.retain_available = *v;
  r.integer(t, "limits", "max_topic_aliases", c.max_topic_aliases, 0, 65535);
  r.integer(t, "limits", "max_topic_aliases_out", c.max_topic_aliases_out, 0, 64);
}

void read_mqtt(Reader& r, const toml::table& t, Config& c) {
  r.only(t, "mqtt",
         {"response_information", "shared_subscriptions", "shared_subscription_strategy"});
  if (auto* s = r.string(t, "mqtt", "response_information")) c.response_information = *s;
  if (auto v = r.boolean(t, "mqtt", "shared_subscriptions")) c.shared_subscriptions = *v;
  if (auto* s = r.string(t, "mqtt", "shared_subscription_strategy")) {
    if (auto st = parse_shared_strategy(*s))
      c.shared_strategy = *st;
    else
      r.fail(*t.get("shared_subscription_strategy"),
             fmt::format("mqtt.shared_subscription_strategy must be round_robin, sticky or "
                         "local_first, not '{}'",
                         *s));
  }
}

void read_listeners(Reader& r, const toml::node& n, Config& c) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.fail(n, "listener must be an array of tables: write [[listener]]");
    return;
  }
  c.listeners.clear();
  for (const toml::node& item : *arr) {
    const toml::table* t = item.as_table();
    if (!t) {
      r.fail(item, "each [[listener]] must be a table");
      return;
    }
    r.only(*t, "listener",
           {"url", "max_connections", "cert", "key", "ca", "tls_min_version", "ciphers",
            "ciphersuites", "client_cert", "origins", "proxy_protocol", "allow_anonymous",
            "require_certificate", "use_identity_as_username", "use_subject_as_username",
            "basic_auth"});
    const std::string* url = r.string(*t, "listener", "url");
    if (!url) {
      if (!r.failed) r.fail(item, "[[listener]] needs a url, e.g. url = \"mqtt://0.0.0.0:1883\"");
      return;
    }
    auto l = parse_listener_url(*url);
    if (!l) {
      r.fail(*t->get("url"), l.error());
      return;
    }
    r.integer(*t, "listener", "max_connections", l->max_connections);
    if (auto* v = r.string(*t, "listener", "cert")) l->tls.cert_file = *v;
    if (auto* v = r.string(*t, "listener", "key")) l->tls.key_file = *v;
    if (auto* v = r.string(*t, "listener", "ca")) l->tls.ca_file = *v;
    if (auto* v = r.string(*t, "listener", "ciphers")) l->tls.ciphers = *v;
    if (auto* v = r.string(*t, "listener", "ciphersuites")) l->tls.ciphersuites = *v;
    if (auto* v = r.string(*t, "listener", "tls_min_version")) {
      if (*v != "1.2" && *v != "1.3")
        r.fail(*t->get("tls_min_version"), "listener.tls_min_version must be \"1.2\" or \"1.3\"");
      l->tls.min_version = *v;
    }
    if (auto* v = r.string(*t, "listener", "client_cert")) {
      auto p = io::parse_client_cert_policy(*v);
      if (!p)
        r.fail(*t->get("client_cert"), "listener.client_cert: " + p.error());
      else
        l->tls.client_cert = *p;
    }
    if (const toml::node* o = t->get("origins")) {
      const toml::array* a = o->as_array();
      if (!a)
        r.fail(*o, "listener.origins must be an array of strings");
      else
        for (const toml::node& e : *a) {
          if (!e.is_string())
            r.fail(e, "listener.origins must be an array of strings");
          else
            l->origins.push_back(e.as_string()->get());
        }
    }
    if (const toml::node* pp = t->get("proxy_protocol")) {
      if (!pp->is_boolean())
        r.fail(*pp, "listener.proxy_protocol must be true or false");
      else
        l->proxy_protocol = pp->as_boolean()->get();
    }
    read_listener_auth(r, *t, *l);
    if (const toml::node* b = t->get("basic_auth")) {
      if (!b->is_boolean())
        r.fail(*b, "listener.basic_auth must be true or false");
      else if (l->kind != ListenerKind::http)
        r.fail(*b,
               "listener.basic_auth is for http:// listeners (MQTT clients log in with CONNECT)");
      else
        l->basic_auth = b->as_boolean()->get();
    }
    if (r.failed) return;
    if (l->uses_tls() && (l->tls.cert_file.empty() || l->tls.key_file.empty())) {
      r.fail(item, fmt::format("listener {} needs cert and key", *url));
      return;
    }
    c.listeners.push_back(*l);
  }
}

}  // namespace

Config Config::defaults() {
  auto c = parse_config(kDefaultConfig, "<embedded default>", Config{});
  return c ? *c : Config{};
}

std::optional<Config::OnCorruption> parse_on_corruption(std::string_view s) {
  if (s == "refuse") return Config::OnCorruption::refuse;
  if (s == "move-aside") return Config::OnCorruption::move_aside;
  return std::nullopt;
}

const char* on_corruption_name(Config::OnCorruption o) {
  return o == Config::OnCorruption::move_aside ? "move-aside" : "refuse";
}

std::optional<Config::Durability> parse_durability(std::string_view s) {
  if (s == "none") return Config::Durability::none;
  if (s == "sync") return Config::Durability::sync;
  if (s == "batched") return Config::Durability::batched;
  return std::nullopt;
}

const char* durability_name(Config::Durability d) {
  switch (d) {
    case Config::Durability::sync:
      return "sync";
    case Config::Durability::batched:
      return "batched";
    case Config::Durability::none:
      break;
  }
  return "none";
}

std::optional<SharedStrategy> parse_shared_strategy(std::string_view name) {
  if (name == "round_robin") return SharedStrategy::round_robin;
  if (name == "sticky") return SharedStrategy::sticky;
  if (name == "local_first") return SharedStrategy::local_first;
  return std::nullopt;
}

std::string_view shared_strategy_name(SharedStrategy s) {
  switch (s) {
    case SharedStrategy::sticky:
      return "sticky";
    case SharedStrategy::local_first:
      return "local_first";
    case SharedStrategy::round_robin:
      break;
  }
  return "round_robin";
}

std::string_view default_config_text() {
  return kDefaultConfig;
}

std::string ConfigError::to_string() const {
  if (file.empty()) return reason;
  if (line == 0) return fmt::format("{}: {}", file, reason);
  return fmt::format("{}:{}: {}", file, line, reason);
}

Result<Config, ConfigError> parse_config(std::string_view text, std::string_view file_name,
                                         Config base) {
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return unexpected(ConfigError{std::string(file_name),
                                  static_cast<unsigned>(e.source().begin.line),
                                  std::string(e.description())});
  }
  Reader r{std::string(file_name), {}, false};
  Config c = std::move(base);
  for (auto&& [k, v] : root) {
    std::string_view key = k.str();
    if (key == "broker" && v.is_table())
      read_broker(r, *v.as_table(), c);
    else if (key == "limits" && v.is_table())
      read_limits(r, *v.as_table(), c);
    else if (key == "listener")
      read_listeners(r, v, c);
    else if (key == "auth" && v.is_table())
      read_auth(r, *v.as_table(), c);
    else if (key == "mqtt" && v.is_table())
      read_mqtt(r, *v.as_table(), c);
    else if (key == "retained" && v.is_table()) {
      const toml::table& t = *v.as_table();
      r.only(t, "retained", {"max_messages", "max_bytes"});
      r.integer(t, "retained", "max_messages", c.max_retained_messages);
      r.integer(t, "retained", "max_bytes", c.max_retained_bytes, 0,
                std::numeric_limits<std::int64_t>::max());
    } else if (key == "storage" && v.is_table()) {
      read_storage(r, *v.as_table(), c);
    } else if (key == "sys" && v.is_table()) {
      const toml::table& t = *v.as_table();
      r.only(t, "sys", {"interval"});
      r.integer(t, "sys", "interval", c.sys_interval_s, 0, 86400);
    } else {
      r.fail(v, fmt::format("unknown section or key '{}'", key));
    }
    if (r.failed) return unexpected(r.error);
  }
  if (r.failed) return unexpected(r.error);
  if (const toml::node* listeners = root.get("listener"); listeners && c.auth.password_file.empty())
    for (const ListenerConfig& l : c.listeners)
      if (l.basic_auth)
        return unexpected(ConfigError{
            std::string(file_name), static_cast<unsigned>(listeners->source().begin.line),
            fmt::format("listener {} asks for basic_auth, but [auth] password_file is not set",
                        listener_url(l))});
  return c;
}

Result<Config, ConfigError> load_config_file(const std::string& path, Config base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(ConfigError{path, 0, "cannot open the file"});
  std::ostringstream s;
  s << in.rdbuf();
  return parse_config(s.str(), path, std::move(base));
}

Result<ListenerConfig, std::string> parse_listener_url(std::string_view url) {
  ListenerConfig l;
  std::string_view rest = url;
  auto scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme == "mqtt" || scheme == "tcp")
      l.kind = ListenerKind::mqtt;
    else if (scheme == "mqtts" || scheme == "ssl" || scheme == "tls")
      l.kind = ListenerKind::mqtts;
    else if (scheme == "ws")
      l.kind = ListenerKind::ws;
    else if (scheme == "wss")
      l.kind = ListenerKind::wss;
    else if (scheme == "http")
      l.kind = ListenerKind::http;
    else
      return unexpected(fmt::format(
          "listener '{}': unknown scheme '{}' (mqtt, mqtts, ws, wss, http)", url, scheme));
    rest.remove_prefix(scheme_end + 3);
  }
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    l.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (l.kind == ListenerKind::http && !l.path.empty() && l.path != "/")
    return unexpected(fmt::format(
        "listener '{}': an http listener takes no path (it serves /metrics, /status.json and /)",
        url));
  if (l.kind == ListenerKind::http) l.path.clear();
  if (l.path.empty() && (l.kind == ListenerKind::ws || l.kind == ListenerKind::wss))
    l.path = "/mqtt";
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return unexpected(fmt::format("listener '{}': unclosed '['", url));
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (rest.empty() || rest.front() != ':')
      return unexpected(fmt::format("listener '{}': missing :PORT", url));
    port = rest.substr(1);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return unexpected(fmt::format("listener '{}': missing :PORT", url));
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535)
    return unexpected(fmt::format("listener '{}': bad port '{}'", url, port));
  l.host = host.empty() ? "0.0.0.0" : std::string(host);
  l.port = static_cast<std::uint16_t>(p);
  return l;
}

std::string listener_url(const ListenerConfig& l) {
  const char* scheme = "mqtt";
  switch (l.kind) {
    case ListenerKind::mqtt:
      scheme = "mqtt";
      break;
    case ListenerKind::mqtts:
      scheme = "mqtts";
      break;
    case ListenerKind::ws:
      scheme = "ws";
      break;
    case ListenerKind::wss:
      scheme = "wss";
      break;
    case ListenerKind::http:
      scheme = "http";
      break;
  }
  bool v6 = l.host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}{}", scheme, v6 ? "[" : "", l.host, v6 ? "]" : "", l.port,
                     l.path);
}

}  // namespace shardmq::broker
