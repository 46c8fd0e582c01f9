// Command-line settings shared by every scenario (main.cpp fills them with CLI11).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shardmq::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: 1883, or 8883 with --tls
  double seconds = 10;     // measured window; the whole run is bounded by run_bound_seconds()
  int qos = 0;
  std::size_t size = 64;  // payload bytes (at least 16: sequence number + timestamp)
  bool json = false;
  unsigned procs = 0;           // worker processes; 0 = as many as the open-file cap needs
  unsigned clients = 1000;      // many
  double connect_rate = 2000;   // new connections per second, all workers together
  double rate = 1000;           // many: total PUBLISH/s; fanout: publishes/s (0 = windowed)
  unsigned pairs = 8;           // pingtest, loadtest
  unsigned subscribers = 1000;  // fanout
  unsigned inflight = 64;       // QoS 1/2 window per publisher (fanout: any QoS)
  // loadtest QoS 1/2: most messages sent but not yet received by the partner; -1 = inflight,
  // 0 = off (then only broker acks pace the publisher and broker queues may overflow).
  int e2e_window = -1;
  std::size_t window = 64 * 1024;  // QoS 0: most unsent bytes kept per publishing socket
  double setup_timeout = 0;        // connect + subscribe phase bound; 0 = derived
  double drain = 2;                // after the window, seconds to wait for in-flight messages
  std::uint16_t keep_alive = 60;
  bool persistent = false;  // clean session 0: the broker keeps (and may store) each session
  std::vector<std::string> sources;  // source addresses; empty = automatic (see README)
  bool tls = false;                  // MQTT over TLS (client side, OpenSSL)
  std::string cafile;                // PEM CA(s) to verify the broker with; empty = system store
  bool insecure = false;             // TLS without verifying the broker's certificate
  bool progress = false;             // worker 0 reports setup and window progress on stderr
};

// Seconds allowed for setup: explicit, or enough to ramp `clients` at connect_rate, + 10.
double setup_bound_seconds(const Options& o, unsigned clients);
// Upper bound of the whole run (setup + window + drain + closing); the process exits by then.
double run_bound_seconds(const Options& o, unsigned clients);

}  // namespace shardmq::loadgen
