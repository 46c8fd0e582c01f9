// The Prometheus text writer, /metrics and /status.json from counters set by hand, and the
// http listener's routing of request heads.
#include <catch2/catch.hpp>

#include <string>

#include "broker/config/config.hpp"
#include "broker/http/http_routes.hpp"
#include "broker/listener/listener.hpp"
#include "broker/mesh/shard_mesh.hpp"
#include "broker/metrics/broker_stats.hpp"
#include "broker/metrics/metrics_exposition.hpp"
#include "broker/metrics/prometheus_text.hpp"

using namespace shardmq;
using namespace shardmq::broker;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

struct Fixture {
  BrokerStats stats;
  ShardMesh mesh{2, 256};
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  Config config = Config::defaults();
  Fixture() {
    for (const char* url : {"mqtt://0.0.0.0:1883", "http://127.0.0.1:9883"}) {
      auto l = ListenerRuntime::create(*parse_listener_url(url));
      REQUIRE(l);
      listeners.push_back(std::move(l.value()));
    }
    stats.init(2, 2);
  }
  MetricsSources sources() { return {stats, mesh, listeners}; }
};

}  // namespace

TEST_CASE("prometheus text: help and label values are escaped as the format says") {
  std::string out;
  PrometheusText t(out);
  t.family("x_total", "counter", "a \\ b\nc \"q\"");
  t.sample("x_total", {{"l", "a\"b\\c\nd"}}, std::uint64_t(7));
  t.sample("x_total", {}, 0.5);
  CHECK(out ==
        "# HELP x_total a \\\\ b\\nc \"q\"\n# TYPE x_total counter\n"
        "x_total{l=\"a\\\"b\\\\c\\nd\"} 7\nx_total 0.5\n");
}

TEST_CASE("prometheus text: a histogram's buckets are cumulative, in seconds, ending at +Inf") {
  Histogram h;
  for (std::uint64_t us : {0ull, 1ull, 2ull, 3ull, 900ull, 5000000000ull})
    h.record(us);
  Histogram::Snapshot b{};
  std::uint64_t sum = 0;
  h.add_to(b, sum);
  std::string out;
  PrometheusText(out).histogram("lat_seconds", {{"shard", "1"}}, b, sum, 1e6, 3);
  CHECK(has_line(out, "lat_seconds_bucket{shard=\"1\",le=\"0\"} 1"));
  CHECK(has_line(out, "lat_seconds_bucket{shard=\"1\",le=\"1e-06\"} 2"));
  CHECK(has_line(out, "lat_seconds_bucket{shard=\"1\",le=\"3e-06\"} 4"));
  CHECK(has_line(out, "lat_seconds_bucket{shard=\"1\",le=\"7e-06\"} 4"));
  CHECK(has_line(out, "lat_seconds_bucket{shard=\"1\",le=\"+Inf\"} 6"));
  CHECK(has_line(out, "lat_seconds_count{shard=\"1\"} 6"));
  CHECK(has_line(out, "lat_seconds_sum{shard=\"1\"} 5000.000906"));
}

TEST_CASE("/metrics: each shard's counters, by shard, reason and listener") {
  Fixture f;
  ShardCounters::bump(f.stats.shards[0].publish_received[0], 5);
  ShardCounters::bump(f.stats.shards[1].publish_received[1], 7);
  ShardCounters::set(f.stats.shards[0].sessions, 4);
  ShardCounters::set(f.stats.shards[0].sessions_online, 1);
  ShardCounters::set(f.stats.shards[1].sessions, 2);
  ShardCounters::set(f.stats.shards[1].sessions_online, 2);
  ShardCounters::set(f.stats.shards[1].messages_queued, 9);
  ShardCounters::set(f.stats.shards[0].retained_messages, 6);
  ShardCounters::set(f.stats.shards[1].connections_open, 3);
  f.stats.shards[0].refuse(RefuseReason::bad_credentials);
  f.stats.shards[1].refuse(RefuseReason::bad_credentials);
  ShardCounters::bump(f.stats.shards[1].accepted[0], 4);
  ShardCounters::bump(f.stats.shards[0].dropped_queue_full, 2);
  f.stats.shards[1].delivery_latency_us.record(100);
  std::string m = render_metrics(f.sources());
  CHECK(has_line(m, "# TYPE shardmq_messages_received_total counter"));
  CHECK(has_line(m, "shardmq_messages_received_total{shard=\"0\",qos=\"0\"} 5"));
  CHECK(has_line(m, "shardmq_messages_received_total{shard=\"0\",qos=\"1\"} 0"));
  CHECK(has_line(m, "shardmq_messages_received_total{shard=\"1\",qos=\"1\"} 7"));
  CHECK(has_line(m, "shardmq_sessions{state=\"connected\"} 3"));
  CHECK(has_line(m, "shardmq_sessions{state=\"offline\"} 3"));
  CHECK(has_line(m, "shardmq_messages_queued{shard=\"1\"} 9"));
  CHECK(has_line(m, "shardmq_retained_messages 6"));
  CHECK(has_line(m, "shardmq_connections{shard=\"1\"} 3"));
  CHECK(has_line(m, "shardmq_connections_refused_total{reason=\"bad_credentials\"} 2"));
  CHECK(has_line(m, "shardmq_connections_refused_total{reason=\"max_connections\"} 0"));
  CHECK(has_line(m, "shardmq_connections_accepted_total{listener=\"mqtt://0.0.0.0:1883\"} 4"));
  CHECK(has_line(m, "shardmq_messages_dropped_total{reason=\"queue_full\"} 2"));
  CHECK(has_line(m, "shardmq_publish_delivery_seconds_count{shard=\"1\"} 1"));
  CHECK(has_line(m, "shardmq_publish_delivery_seconds_bucket{shard=\"1\",le=\"0.000127\"} 1"));
  CHECK(has_line(m, "shardmq_ring_backlog{shard=\"0\"} 0"));
  CHECK(has_line(m, "shardmq_shards 2"));
  CHECK(m.find("shardmq_build_info{version=\"" SHARDMQ_VERSION "\"} 1") != std::string::npos);
}

TEST_CASE("/status.json: version, shards, listeners and a configuration summary") {
  Fixture f;
  std::string j = render_status_json(f.sources(), f.config, "io_uring");
  CHECK(j.starts_with("{\"version\":\"" SHARDMQ_VERSION "\""));
  CHECK(j.find("\"shards\":2") != std::string::npos);
  CHECK(j.find("\"io\":\"io_uring\"") != std::string::npos);
  CHECK(j.find("\"listeners\":[\"mqtt://0.0.0.0:1883\",\"http://127.0.0.1:9883\"]") !=
        std::string::npos);
  CHECK(j.find("\"durability\":\"none\"") != std::string::npos);
  CHECK(j.ends_with("}}"));
}

TEST_CASE("http routes: GET and HEAD only, no bodies, 404 for the unknown") {
  Fixture f;
  MetricsSources sources = f.sources();
  static const HttpAsset page{"text/html; charset=utf-8", "<html></html>"};
  HttpRouteContext ctx{sources, f.config, "epoll",
                       [](std::string_view path) { return path == "/" ? &page : nullptr; }};
  auto route = [&](std::string req) {
    auto p = io::parse_http_request_head(req, 8192);
    REQUIRE(p.status == io::HttpParseStatus::complete);
    return route_http_request(p.head, ctx);
  };
  auto metrics = route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.body.find("shardmq_uptime_seconds") != std::string::npos);
  auto status = route("HEAD /status.json?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status.status == 200);
  CHECK(status.content_type == "application/json");
  auto root = route("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(root.status == 200);
  CHECK(root.body_view() == "<html></html>");
  CHECK(route("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status == 404);
  auto post = route("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.status == 405);
  CHECK(post.extra_headers == "Allow: GET, HEAD\r\n");
  auto with_body = route("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
  CHECK(with_body.status == 413);
  CHECK(with_body.close);
  std::string head = http_response_head(metrics, true);
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.find("Content-Length: " + std::to_string(metrics.body.size()) + "\r\n") !=
        std::string::npos);
  CHECK(head.ends_with("Connection: keep-alive\r\n\r\n"));
}
