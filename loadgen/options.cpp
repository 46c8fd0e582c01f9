#include "loadgen/options.hpp"

#include <algorithm>

namespace shardmq::loadgen {

double setup_bound_seconds(const Options& o, unsigned clients) {
  if (o.setup_timeout > 0) return o.setup_timeout;
  return clients / std::max(1.0, o.connect_rate) + 10.0;
}

double run_bound_seconds(const Options& o, unsigned clients) {
  return setup_bound_seconds(o, clients) + o.seconds + o.drain + 2.0;
}

}  // namespace shardmq::loadgen
