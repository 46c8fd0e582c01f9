// shardmq-load: MQTT load generator. One subcommand per scenario; see loadgen/README.md.
#include <CLI/CLI.hpp>

#include "loadgen/options.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/scenarios.hpp"

using namespace shardmq::loadgen;

namespace {

void add_common(CLI::App* sub, Options& o) {
  sub->add_option("--host", o.host, "Broker address")->capture_default_str();
  sub->add_option("--port", o.port, "Broker port (0: 1883, or 8883 with --tls)")
      ->capture_default_str();
  sub->add_option("--seconds", o.seconds, "Length of the measured window")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  sub->add_option("--qos", o.qos, "QoS of publishes and subscriptions")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  sub->add_option("--size", o.size, "Payload bytes (>= 16)")
      ->check(CLI::Range(16, 1 << 26))
      ->capture_default_str();
  sub->add_flag("--json", o.json, "Print one JSON object");
  sub->add_option("--procs", o.procs, "Worker processes (0: as the open-file cap requires)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  sub->add_option("--connect-rate", o.connect_rate, "New connections per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--setup-timeout", o.setup_timeout,
                  "Seconds allowed to connect and subscribe (0: clients/connect-rate + 10)")
      ->capture_default_str();
  sub->add_option("--drain", o.drain, "Seconds to wait for in-flight messages after the window")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  sub->add_option("--keepalive", o.keep_alive, "MQTT keep alive seconds (0: off)")
      ->capture_default_str();
  sub->add_option("--source", o.sources, "Source addresses to connect from (repeatable)");
  sub->add_flag("--persistent", o.persistent,
                "Clean session 0: the broker keeps every client's session (and, with "
                "durability, writes its queued and in-flight messages to disk)");
  sub->add_flag("--tls", o.tls, "MQTT over TLS");
  sub->add_option("--cafile", o.cafile, "TLS: PEM CA file to verify the broker (default: system)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--insecure", o.insecure, "TLS: do not verify the broker's certificate");
  sub->add_flag("--progress", o.progress,
                "Print setup progress and the window's start and end to stderr");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shardmq-load: MQTT load generator", "shardmq-load"};
  app.require_subcommand(1);
  Options o;

  auto* many = app.add_subcommand("many", "Many mostly idle clients, each on its own topic");
  add_common(many, o);
  many->add_option("--clients", o.clients, "Clients")->capture_default_str();
  many->add_option("--rate", o.rate, "Total PUBLISH per second")->capture_default_str();

  auto* ping = app.add_subcommand("pingtest", "Pairs bouncing one message: round-trip latency");
  add_common(ping, o);
  ping->add_option("--pairs", o.pairs, "Pairs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();

  auto* load = app.add_subcommand("loadtest", "Pairs: one publishes flat out, one receives");
  add_common(load, o);
  load->add_option("--pairs", o.pairs, "Pairs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  load->add_option("--inflight", o.inflight, "QoS 1/2: unacknowledged publishes per publisher")
      ->check(CLI::Range(1, 32768))
      ->capture_default_str();
  load->add_option("--e2e-window", o.e2e_window,
                   "QoS 1/2: most sent-not-yet-received per pair (-1: = inflight, 0: off)")
      ->capture_default_str();
  load->add_option("--window", o.window, "QoS 0: most unsent bytes per publisher socket")
      ->check(CLI::Range(1024, 1 << 28))
      ->capture_default_str();

  auto* fan = app.add_subcommand("fanout", "One publisher, many subscribers on one topic");
  add_common(fan, o);
  fan->add_option("--subscribers", o.subscribers, "Subscribers")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  fan->add_option("--inflight", o.inflight, "Messages not yet delivered to all, at most")
      ->check(CLI::Range(1, 32768))
      ->capture_default_str();
  o.rate = 0;
  fan->add_option("--rate", o.rate, "Publishes per second (0: windowed by --inflight)");

  // many's default rate differs from fanout's: set it only if many is chosen.
  double many_rate_default = 1000;
  many->callback([&] {
    if (many->count("--rate") == 0) o.rate = many_rate_default;
  });

  CLI11_PARSE(app, argc, argv);
  if (*many) return run_many(o);
  if (*ping) return run_pingtest(o);
  if (*load) return run_loadtest(o);
  if (*fan) return run_fanout(o);
  return kExitUsage;
}
