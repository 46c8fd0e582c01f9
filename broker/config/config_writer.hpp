// Writing a Config back out as the TOML that --config reads (shardmq --print-config), so an
// operator can see what a mosquitto.conf or a set of flags amounts to, and keep it as a file.
#pragma once

#include <string>

#include "broker/config/config.hpp"

namespace shardmq::broker {

// Every setting, with its value, in the sections of docs/configuration.md. Parsing the text
// with parse_config gives back the same Config. An empty listener list is written as the
// listener the broker then opens (mqtt://0.0.0.0:1883).
std::string write_config_toml(const Config& config);

}  // namespace shardmq::broker
