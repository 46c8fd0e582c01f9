// The shardmq command line: flags for the common cases on top of --config FILE (shardmq's
// TOML) or --mosquitto-conf FILE (a mosquitto.conf, translated).
#pragma once

#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/config/config_source.hpp"

namespace shardmq::broker {

struct CommandLine {
  Config config;
  ConfigSource source;  // SIGHUP reads it again
  // --help, --version, --print-default-config, --print-config, --check-config: done, and
  // what they had to say already printed.
  bool exit_now = false;
  int exit_code = 0;
  // For the start-up log: what the configuration asks that shardmq ignores or reads
  // differently ("FILE:LINE: directive X is not supported (ignored)", ...).
  std::vector<std::string> warnings;
};

// Parses argv; on error prints the reason (file:line for config files) and sets exit_now
// with a non-zero exit_code (2; 1 for --check-config).
CommandLine parse_command_line(int argc, char** argv);

}  // namespace shardmq::broker
