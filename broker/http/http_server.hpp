// The shard's http:// side: connections accepted on an http listener read request heads
// and get /metrics, /status.json or the dashboard (http_routes.hpp), served on the shard's
// loop from every shard's counters (relaxed loads: nothing locked, nothing sent through a
// ring, no thread per request). HTTP/1.1 keep-alive, one request at a time. With
// `basic_auth` the listener asks for HTTP basic credentials, checked against the password
// file by the hash workers (never on the loop); an accepted Authorization is remembered for
// a minute so a dashboard's polling is not hashed each second.
//
// Owns: the HTTP connections of the shard (their sockets, buffers and timers).
// Calls: the event loop, the authenticator, the routes. Called by: the shard (loop
// callbacks whose context is tagged as HTTP: http_context()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/auth/authenticator.hpp"
#include "broker/http/http_routes.hpp"
#include "broker/metrics/metrics_exposition.hpp"
#include "broker/shard/shard_context.hpp"
#include "io/loop.hpp"

namespace shardmq::broker {

class AuthServices;

class HttpServer final : public AuthWaiter {
 public:
  static constexpr std::size_t kMaxRequestHead = 8192;
  static constexpr std::size_t kMaxConnections = 64;  // per shard; more are closed at accept
  static constexpr std::uint32_t kIdleTimeoutMs = 30000;

  HttpServer(ShardContext& ctx, MetricsSources sources, AuthServices* auth,
             std::function<void()> wake);
  ~HttpServer() override;

  void attach(io::Loop* loop, std::string_view io_backend) {
    loop_ = loop;
    io_backend_ = io_backend;
  }
  void set_assets(DashboardAssetLookup assets) { assets_ = assets; }

  // Loop contexts of HTTP connections carry a tag bit (Connections are at least 8-aligned).
  static bool is_http(void* ctx) { return reinterpret_cast<std::uintptr_t>(ctx) & 1; }

  void accept(std::uint32_t listener, io::SocketId socket, const io::PeerAddress& peer);
  void on_data(void* ctx, std::span<const std::byte> data);
  void on_sent(void* ctx, std::size_t bytes);
  void on_peer_closed(void* ctx);
  void on_closed(void* ctx);
  void on_tick();
  void deliver_answers();  // end of turn: basic-auth verdicts from the hash workers
  void close_all();        // shutdown
  bool empty() const { return open_.empty(); }

 private:
  struct Exchange;
  static Exchange* from(void* ctx);
  void serve(Exchange& x);  // parse what arrived; answer when a head is complete
  void answer(Exchange& x, HttpResponse r, bool head_only);
  void send_more(Exchange& x);
  void close(Exchange& x);
  bool authorised(Exchange& x, const io::HttpRequestHead& req);  // false: answered or waiting
  void on_authenticated(std::uint32_t serial, AuthVerdict verdict) override;

  ShardContext& ctx_;
  const MetricsSources sources_;  // references to what every shard shares read-only
  io::Loop* loop_ = nullptr;
  std::string_view io_backend_;
  DashboardAssetLookup assets_ = nullptr;
  std::unique_ptr<Authenticator> authenticator_;       // when a listener has basic_auth
  std::unordered_map<std::uint32_t, Exchange*> open_;  // by serial
  std::uint32_t next_serial_ = 1;
  std::unordered_map<std::uint32_t, std::string> pending_auth_;  // serial -> Authorization
  // Accepted Authorization header values and when they stop being trusted (tick).
  std::unordered_map<std::string, std::uint64_t> trusted_;
};

}  // namespace shardmq::broker
