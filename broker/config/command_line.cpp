#include "broker/config/command_line.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "broker/auth/auth_services.hpp"
#include "broker/config/config_writer.hpp"
#include "broker/config/mosquitto_conf.hpp"
#include "broker/listener/listener.hpp"

namespace shardmq::broker {
namespace {

// --check-config: what start-up loads before it binds any socket (certificates and keys,
// the password file, the ACL), loaded the same way and thrown away.
Result<void, std::string> load_referenced_files(const Config& c) {
  for (const ListenerConfig& l : c.listeners)
    if (auto rt = ListenerRuntime::create(l); !rt) return unexpected(rt.error());
  if (auto auth = AuthServices::create(c); !auth) return unexpected(auth.error().to_string());
  return {};
}

}  // namespace

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine out;
  CLI::App app{"shardmq: a sharded MQTT 3.1/3.1.1/5.0 broker", "shardmq"};
  std::string config_file, mosquitto_file, check_file;
  std::vector<std::string> listen;
  int shards = -1;
  std::string io_backend, level;
  double connect_timeout = -1, sys_interval = -1;
  long long max_packet = -1;
  bool version = false, print_default = false, print_config = false;
  std::string tls_cert, tls_key, tls_ca, tls_client_cert;
  bool proxy_protocol = false;

  auto* config_opt = app.add_option("-c,--config", config_file, "TOML configuration file")
                         ->check(CLI::ExistingFile);
  app.add_option("--mosquitto-conf", mosquitto_file,
                 "A Mosquitto configuration file (mosquitto.conf), read with Mosquitto's "
                 "defaults")
      ->excludes(config_opt);
  app.add_option("-l,--listen", listen,
                 "Listener URL: mqtt://HOST:PORT (or HOST:PORT); may be repeated. Replaces the "
                 "listeners of the configuration");
  app.add_option("-s,--shards", shards, "Number of shards (0: one per usable core)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--io", io_backend, "Event loop: auto, uring or epoll")
      ->check(CLI::IsMember({"auto", "uring", "epoll"}));
  app.add_option("--log-level", level, "debug, info, warn, error or off")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error", "off"}));
  app.add_option("--connect-timeout", connect_timeout,
                 "Seconds a socket may stay open without sending CONNECT")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--max-packet-size", max_packet, "Largest packet accepted, in bytes")
      ->check(CLI::Range(16LL, 268435455LL));
  app.add_option("--sys-interval", sys_interval, "Seconds between $SYS publishes (0: off)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--tls-cert", tls_cert, "PEM certificate chain for mqtts:// and wss:// listeners")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key for mqtts:// and wss:// listeners")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", tls_ca, "PEM CA bundle that signs client certificates")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-cert", tls_client_cert,
                 "Client certificates: none, optional, required")
      ->check(CLI::IsMember({"none", "optional", "required"}));
  app.add_flag("--proxy-protocol", proxy_protocol,
               "Listeners given with --listen expect a PROXY protocol v1/v2 header first");
  app.add_flag("--print-default-config", print_default, "Print the embedded configuration");
  app.add_flag("--print-config", print_config,
               "Print the configuration the other flags and files amount to, as TOML, and exit");
  auto* check_opt =
      app.add_option("--check-config", check_file,
                     "Check a TOML file (or the --config / --mosquitto-conf file) and the files "
                     "it names, print FILE: ok and exit 0, or the error and exit 1")
          ->expected(0, 1);
  app.add_flag("-V,--version", version, "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_now = true;
    out.exit_code = app.exit(e);
    // --check-config promises 1 for any error, a missing --config file included.
    const bool checking = std::any_of(argv, argv + argc, [](const char* a) {
      return std::string_view(a).starts_with("--check-config");
    });
    if (out.exit_code != 0 && checking) out.exit_code = 1;
    return out;
  }
  if (version) {
    fmt::print("shardmq {}\n", SHARDMQ_VERSION);
    out.exit_now = true;
    return out;
  }
  if (print_default) {
    fmt::print("{}", default_config_text());
    out.exit_now = true;
    return out;
  }

  const bool checking = check_opt->count() > 0;
  auto fail = [&](const std::string& why) {
    fmt::print(stderr, "shardmq: {}\n", why);
    out.exit_now = true;
    out.exit_code = checking ? 1 : 2;
  };

  if (!check_file.empty()) {
    if (!config_file.empty() || !mosquitto_file.empty()) {
      fail(
          "--check-config FILE checks FILE: give it no --config or --mosquitto-conf, or give "
          "--check-config no file");
      return out;
    }
    config_file = check_file;
  }
  std::string source = "<embedded default>";
  if (!mosquitto_file.empty()) {
    auto m = load_mosquitto_conf(mosquitto_file);
    if (!m) {
      fail(m.error().to_string());
      return out;
    }
    source = mosquitto_file;
    out.config = std::move(m->config);
    out.warnings = std::move(m->warnings);
  } else if (!config_file.empty()) {
    auto c = load_config_file(config_file);
    if (!c) {
      fail(c.error().to_string());
      return out;
    }
    source = config_file;
    out.config = std::move(*c);
  } else {
    out.config = Config::defaults();
  }
  Config& c = out.config;
  if (!listen.empty()) {
    c.listeners.clear();
    for (const auto& url : listen) {
      auto l = parse_listener_url(url);
      if (!l) {
        fail(l.error());
        return out;
      }
      l->proxy_protocol = proxy_protocol;
      c.listeners.push_back(*l);
    }
  }
  for (ListenerConfig& l : c.listeners) {
    if (!l.uses_tls()) continue;
    if (!tls_cert.empty()) l.tls.cert_file = tls_cert;
    if (!tls_key.empty()) l.tls.key_file = tls_key;
    if (!tls_ca.empty()) l.tls.ca_file = tls_ca;
    if (!tls_client_cert.empty())
      l.tls.client_cert = *io::parse_client_cert_policy(tls_client_cert);
    if (l.tls.cert_file.empty() || l.tls.key_file.empty()) {
      fail("listener " + listener_url(l) +
           " needs --tls-cert and --tls-key (or cert/key in the config file)");
      return out;
    }
  }
  if (shards >= 0) c.shards = static_cast<unsigned>(shards);
  if (io_backend == "auto") c.io = io::BackendChoice::auto_detect;
  if (io_backend == "uring") c.io = io::BackendChoice::uring;
  if (io_backend == "epoll") c.io = io::BackendChoice::epoll;
  if (!level.empty()) c.log_level = *parse_log_level(level);
  if (connect_timeout > 0)
    c.connect_timeout_ms = static_cast<std::uint32_t>(std::lround(connect_timeout * 1000));
  if (max_packet > 0) c.max_packet_size = static_cast<std::uint32_t>(max_packet);
  if (sys_interval >= 0) c.sys_interval_s = static_cast<std::uint32_t>(std::lround(sys_interval));

  if (checking) {
    if (auto r = load_referenced_files(c); !r) {
      fail(r.error());
      return out;
    }
    for (const std::string& w : out.warnings)
      fmt::print(stderr, "shardmq: warning: {}\n", w);
    fmt::print("{}: ok\n", source);
    out.exit_now = true;
    return out;
  }
  if (print_config) {
    for (const std::string& w : out.warnings)
      fmt::print(stderr, "shardmq: warning: {}\n", w);
    fmt::print("{}", write_config_toml(c));
    out.exit_now = true;
  }
  return out;
}

}  // namespace shardmq::broker
