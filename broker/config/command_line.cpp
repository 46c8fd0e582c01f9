#include "broker/config/command_line.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string_view>

#include "broker/auth/auth_services.hpp"
#include "broker/config/config_writer.hpp"
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
  ConfigSource& src = out.source;
  std::string& config_file = src.config_file;
  std::string& mosquitto_file = src.mosquitto_file;
  std::string check_file;
  bool version = false, print_default = false, print_config = false;

  auto* config_opt = app.add_option("-c,--config", config_file, "TOML configuration file")
                         ->check(CLI::ExistingFile);
  app.add_option("--mosquitto-conf", mosquitto_file,
                 "A Mosquitto configuration file (mosquitto.conf), read with Mosquitto's "
                 "defaults")
      ->excludes(config_opt);
  app.add_option("-l,--listen", src.listen,
                 "Listener URL: mqtt://HOST:PORT (or HOST:PORT), mqtts://, ws://HOST:PORT/PATH, "
                 "wss://, or http://HOST:PORT for /metrics and the dashboard; may be repeated. "
                 "Replaces the listeners of the configuration");
  app.add_option("-s,--shards", src.shards,
                 "Number of shards, at most 64 (0: one per usable core, at most 64)")
      ->check(CLI::Range(0, 64));
  app.add_option("--io", src.io_backend, "Event loop: auto, uring or epoll")
      ->check(CLI::IsMember({"auto", "uring", "epoll"}));
  app.add_option("--durability", src.durability,
                 "What survives a restart: none, sync (PUBACK after fsync) or batched")
      ->check(CLI::IsMember({"none", "sync", "batched"}));
  app.add_option("--data-dir", src.data_dir, "The store's directory (RocksDB) for --durability");
  app.add_option("--log-level", src.log_level, "debug, info, warn, error or off")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error", "off"}));
  app.add_option("--log-format", src.log_format,
                 "text, or json: one JSON object a line (ts, level, thread, msg)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--connect-timeout", src.connect_timeout_s,
                 "Seconds a socket may stay open without sending CONNECT")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--max-packet-size", src.max_packet_size, "Largest packet accepted, in bytes")
      ->check(CLI::Range(16LL, 268435455LL));
  app.add_option("--sys-interval", src.sys_interval_s, "Seconds between $SYS publishes (0: off)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--tls-cert", src.tls_cert,
                 "PEM certificate chain for mqtts:// and wss:// listeners")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", src.tls_key, "PEM private key for mqtts:// and wss:// listeners")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", src.tls_ca, "PEM CA bundle that signs client certificates")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-cert", src.tls_client_cert,
                 "Client certificates: none, optional, required")
      ->check(CLI::IsMember({"none", "optional", "required"}));
  app.add_flag("--proxy-protocol", src.proxy_protocol,
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
  auto loaded = src.load(out.warnings);
  if (!loaded) {
    fail(loaded.error());
    return out;
  }
  out.config = std::move(*loaded);
  const Config& c = out.config;
  const std::string source = src.name();

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
