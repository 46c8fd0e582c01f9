// The shardmq command line: flags for the common cases on top of --config FILE.
#pragma once

#include <string>
#include <vector>

#include "broker/config/config.hpp"

namespace shardmq::broker {

struct CommandLine {
  Config config;
  bool exit_now = false;  // --help, --version, --print-default-config: already printed
  int exit_code = 0;
};

// Parses argv; on error prints the reason (file:line for config files) and sets exit_now
// with a non-zero exit_code.
CommandLine parse_command_line(int argc, char** argv);

}  // namespace shardmq::broker
