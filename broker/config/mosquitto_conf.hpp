// Running from a mosquitto.conf (shardmq --mosquitto-conf FILE): a Mosquitto 2.0
// configuration file, and the files its include_dir lines name, translated into a Config
// with Mosquitto's defaults, so that the broker behaves as Mosquitto would with that file.
// docs/configuration.md ("Running from a mosquitto.conf") lists every directive and what
// becomes of it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.hpp"
#include "core/result.hpp"

namespace shardmq::broker {

struct MosquittoConf {
  Config config;
  // One "FILE:LINE: ..." line per thing the operator should know, for the start-up log:
  // directives ignored ("directive X is not supported (ignored)", once per directive) and
  // directives read differently from Mosquitto.
  std::vector<std::string> warnings;
};

// Reads the file at `path`. A directive shardmq cannot honour where ignoring it would weaken
// security, a malformed value or an unknown directive is an error naming the file and line.
Result<MosquittoConf, ConfigError> load_mosquitto_conf(const std::string& path);

// The same for text already in memory; `file_name` names it in messages. include_dir lines
// still read their directory from disk.
Result<MosquittoConf, ConfigError> parse_mosquitto_conf(std::string_view text,
                                                        std::string_view file_name);

}  // namespace shardmq::broker
