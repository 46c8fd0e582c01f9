// Where the running configuration comes from: the TOML file (--config) or the mosquitto.conf
// (--mosquitto-conf) or the embedded defaults, and the command-line flags on top. Kept by
// main so that SIGHUP reads the same file with the same flags again.
#pragma once

#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "core/result.hpp"

namespace shardmq::broker {

struct ConfigSource {
  std::string config_file;     // --config
  std::string mosquitto_file;  // --mosquitto-conf
  // The flags; unset ones (empty, negative) leave the file's value.
  std::vector<std::string> listen;
  bool proxy_protocol = false;
  std::string tls_cert, tls_key, tls_ca, tls_client_cert;
  int shards = -1;
  std::string io_backend, log_level, log_format;
  std::string durability, data_dir;  // [storage] durability and path
  double connect_timeout_s = -1, sys_interval_s = -1;
  long long max_packet_size = -1;

  // The file's name, or "<embedded default>".
  std::string name() const;
  // Reads the file (or the defaults) and applies the flags; `warnings` gets what the file
  // asks that shardmq ignores or reads differently. Errors: "FILE:LINE: reason".
  Result<Config, std::string> load(std::vector<std::string>& warnings) const;
};

}  // namespace shardmq::broker
