#include "broker/config/command_line.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

namespace shardmq::broker {

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine out;
  CLI::App app{"shardmq: a sharded MQTT 3.1/3.1.1/5.0 broker", "shardmq"};
  std::string config_file;
  std::vector<std::string> listen;
  int shards = -1;
  std::string io_backend, level;
  double connect_timeout = -1, sys_interval = -1;
  long long max_packet = -1;
  bool version = false, print_default = false;
  std::string tls_cert, tls_key, tls_ca, tls_client_cert;
  bool proxy_protocol = false;

  app.add_option("-c,--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
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
  app.add_flag("-V,--version", version, "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_now = true;
    out.exit_code = app.exit(e);
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

  auto fail = [&](const std::string& why) {
    fmt::print(stderr, "shardmq: {}\n", why);
    out.exit_now = true;
    out.exit_code = 2;
  };

  if (!config_file.empty()) {
    auto c = load_config_file(config_file);
    if (!c) {
      fail(c.error().to_string());
      return out;
    }
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
  return out;
}

}  // namespace shardmq::broker
