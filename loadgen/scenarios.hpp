// The subcommands. Each returns the process exit code (see scenario_driver.hpp).
#pragma once

#include "loadgen/options.hpp"

namespace shardmq::loadgen {

int run_many(const Options& o);
int run_pingtest(const Options& o);
int run_loadtest(const Options& o);
int run_fanout(const Options& o);

}  // namespace shardmq::loadgen
