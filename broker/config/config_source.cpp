#include "broker/config/config_source.hpp"

#include <cmath>

#include "broker/config/mosquitto_conf.hpp"

namespace shardmq::broker {

std::string ConfigSource::name() const {
  if (!mosquitto_file.empty()) return mosquitto_file;
  if (!config_file.empty()) return config_file;
  return "<embedded default>";
}

Result<Config, std::string> ConfigSource::load(std::vector<std::string>& warnings) const {
  Config c;
  if (!mosquitto_file.empty()) {
    auto m = load_mosquitto_conf(mosquitto_file);
    if (!m) return unexpected(m.error().to_string());
    c = std::move(m->config);
    warnings = std::move(m->warnings);
  } else if (!config_file.empty()) {
    auto f = load_config_file(config_file);
    if (!f) return unexpected(f.error().to_string());
    c = std::move(*f);
  } else {
    c = Config::defaults();
  }
  if (!listen.empty()) {
    c.listeners.clear();
    for (const auto& url : listen) {
      auto l = parse_listener_url(url);
      if (!l) return unexpected(l.error());
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
    if (l.tls.cert_file.empty() || l.tls.key_file.empty())
      return unexpected("listener " + listener_url(l) +
                        " needs --tls-cert and --tls-key (or cert/key in the config file)");
  }
  if (shards >= 0) c.shards = static_cast<unsigned>(shards);
  if (io_backend == "auto") c.io = io::BackendChoice::auto_detect;
  if (io_backend == "uring") c.io = io::BackendChoice::uring;
  if (io_backend == "epoll") c.io = io::BackendChoice::epoll;
  if (!log_level.empty()) c.log_level = *parse_log_level(log_level);
  if (!log_format.empty()) c.log_format = *parse_log_format(log_format);
  if (!durability.empty()) c.durability = *parse_durability(durability);
  if (!data_dir.empty()) c.storage_path = data_dir;
  if (connect_timeout_s > 0)
    c.connect_timeout_ms = static_cast<std::uint32_t>(std::lround(connect_timeout_s * 1000));
  if (max_packet_size > 0) c.max_packet_size = static_cast<std::uint32_t>(max_packet_size);
  if (sys_interval_s >= 0)
    c.sys_interval_s = static_cast<std::uint32_t>(std::lround(sys_interval_s));
  return c;
}

}  // namespace shardmq::broker
