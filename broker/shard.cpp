#include "broker/shard.hpp"

#include <algorithm>
#include <cstring>

#include "broker/log.hpp"
#include "core/encoder.hpp"

namespace shardmq::broker {
namespace {
constexpr unsigned kTickMs = 100;
std::uint64_t ms_to_ticks(std::uint64_t ms) {
  return (ms + kTickMs - 1) / kTickMs;
}

void release_envelope(const ShardEnvelope& e) {
  using K = ShardEnvelope::Kind;
  switch (e.kind) {
    case K::publish:
    case K::retain_set:
    case K::deliver:
      static_cast<PublishedMessage*>(e.ptr)->release();
      break;
    case K::interest_add:
    case K::interest_remove:
      delete static_cast<std::string*>(e.ptr);
      break;
    case K::attach:
      delete static_cast<AttachRequest*>(e.ptr);
      break;
    case K::detach:
      delete static_cast<DetachNotice*>(e.ptr);
      break;
    case K::subscribe:
      delete static_cast<SubscribeRequest*>(e.ptr);
      break;
    case K::unsubscribe:
      delete static_cast<UnsubscribeRequest*>(e.ptr);
      break;
    case K::attached:
      delete static_cast<AttachReply*>(e.ptr);
      break;
    case K::packet:
      delete static_cast<core::Packet*>(e.ptr);
      break;
    case K::barrier:
    case K::barrier_ack:
    case K::client_ack:
    case K::release:
    case K::kick:
      break;
  }
}
}  // namespace

Shard::Shard(unsigned id, const Config& config,
             const std::vector<std::unique_ptr<ListenerRuntime>>& listeners, ShardMesh& mesh,
             BrokerStats& stats)
    : id_(id),
      config_(config),
      listeners_(listeners),
      mesh_(mesh),
      stats_(stats),
      counters_(stats.shards[id]),
      backlog_(mesh.shards()),
      barrier_acked_(mesh.shards(), 0) {}

Shard::~Shard() {
  // Every shard thread has joined: drop what other shards sent us and what we kept, and
  // tell nobody (the other shards are going too).
  destroying_ = true;
  for (unsigned from = 0; from < mesh_.shards(); ++from) {
    if (from == id_) continue;
    ShardEnvelope e;
    while (mesh_.ring(from, id_).try_pop(e))
      release_envelope(e);
  }
  for (auto& q : backlog_)
    for (auto& e : q)
      release_envelope(e);
  for (auto& p : pending_subscribes_)
    delete p.request;
  std::vector<Session*> all;
  sessions_.for_each([&](Session* s) { all.push_back(s); });
  for (Session* s : all)
    destroy_session(s);
}

void Shard::run(std::promise<StartResult> ready, std::shared_future<bool> go) {
  set_log_thread_name("shard " + std::to_string(id_));
  StartResult r;
  io::LoopOptions lo;
  lo.backend = config_.io;
  lo.recv_buffer_count = config_.recv_buffers;
  lo.recv_buffer_size = config_.recv_buffer_size;
  std::string why;
  loop_ = io::make_loop(lo, &why);
  if (!loop_) {
    r.error = "cannot create the event loop: " + why;
    ready.set_value(r);
    go.wait();
    return;
  }
  r.backend = io::backend_name(loop_->backend());
  r.fallback_reason = why;
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const ListenerConfig& l = config_.listeners[i];
    int port = loop_->listen(l.host, l.port, static_cast<std::uint32_t>(i), io::ListenerOptions{});
    if (port < 0) {
      r.error = "cannot listen on " + listener_url(l) + ": " + std::strerror(-port);
      break;
    }
    r.ports.push_back(static_cast<std::uint16_t>(port));
  }
  mesh_.attach_loop(id_, loop_.get());
  bool ok = r.error.empty();
  ready.set_value(std::move(r));
  if (!go.get() || !ok) {
    loop_.reset();
    return;
  }
  loop_->set_tick_interval(kTickMs);
  if (id_ == 0 && config_.sys_interval_s) publish_sys_topics();
  loop_->run(*this);
  // Sockets are closed; what they owned was freed in on_closed. The loop itself stays
  // until every shard has stopped: others may still wake it (ShardMesh::notify).
}

void Shard::request_stop() {
  stop_requested_.store(true, std::memory_order_release);
  mesh_.wake(id_);
}

Connection* Shard::connection_by_serial(std::uint32_t serial) {
  return connections_.find(serial);
}

// ---- loop callbacks ----

void Shard::on_accept(std::uint32_t listener, io::SocketId socket, const io::PeerAddress&) {
  // Limits are per broker and per listener; each shard takes its share of them.
  if (listener_connections_.size() < listeners_.size())
    listener_connections_.resize(listeners_.size());
  std::uint32_t listener_max =
      listener < listeners_.size() ? listeners_[listener]->config.max_connections : 0;
  if (shutting_down_ ||
      (config_.max_connections &&
       connections_.size() * mesh_.shards() >= config_.max_connections) ||
      (listener_max &&
       std::size_t(listener_connections_[listener]) * mesh_.shards() >= listener_max)) {
    loop_->close(socket);
    return;
  }
  Connection* c = connection_slab_.create();
  c->socket = socket;
  c->serial = next_serial_++;
  if (c->serial == 0) c->serial = next_serial_++;
  c->last_rx_tick = tick_;
  c->listener = static_cast<std::uint16_t>(listener);
  if (listener < listeners_.size()) {
    c->layer = listeners_[listener]->make_layers();
    ++listener_connections_[listener];
  }
  connections_.insert(c);
  loop_->start(socket, c);
  timers_.schedule(c->timer, tick_ + ms_to_ticks(config_.connect_timeout_ms));
}

void Shard::on_data(void* ctx, std::span<const std::byte> data) {
  auto& c = *static_cast<Connection*>(ctx);
  if (c.state == Connection::State::closing) return;
  ShardCounters::bump(counters_.bytes_received, data.size());
  c.last_rx_tick = tick_;
  if (c.layer) {
    layer_app_.clear();
    bool ok = c.layer->on_wire_data(data, layer_app_, c.layer_wire);
    if (!c.layer_wire.empty()) schedule_flush(c);
    if (!layer_app_.empty()) {
      // What arrived before a close or an error still counts (PUBLISH then close_notify).
      ByteBlock app;  // consume() may reach another connection's layer: own the bytes
      app.swap(layer_app_);
      if (c.home_paused)
        c.rx_tail.append(app.data(), app.size());
      else
        consume(c, {app.data(), app.size()});
      app.clear();
      if (layer_app_.capacity() == 0) layer_app_.swap(app);  // keep the buffer for next time
    }
    if (!ok && c.state != Connection::State::closing) {
      bool bye = c.layer->error().starts_with("closed by peer");
      if (!bye) log_info("closing a connection: {}", c.layer->error());
      close_connection(c, CloseKind::graceful);
    }
    return;
  }
  if (c.home_paused) {
    c.rx_tail.append(data.data(), data.size());  // the loop may deliver a little after pause
    return;
  }
  consume(c, data);
}

void Shard::on_sent(void* ctx, std::size_t bytes) {
  auto& c = *static_cast<Connection*>(ctx);
  c.out.complete_send(bytes);
  if (!c.layer_wire.empty()) schedule_flush(c);
  if (c.session_attached && c.home == id_ && c.session->in_stream_list &&
      c.state == Connection::State::connected) {
    std::erase(streaming_sessions_, c.session);
    c.session->in_stream_list = false;
    pump_retained(*c.session);
  }
  ShardCounters::bump(counters_.bytes_sent, bytes);
  if (c.out.queued() > 0) {
    schedule_flush(c);
  } else if (c.close_when_flushed && c.state == Connection::State::closing) {
    c.close_when_flushed = false;
    loop_->close(c.socket);
  }
}

void Shard::on_peer_closed(void* ctx, int) {
  auto& c = *static_cast<Connection*>(ctx);
  c.peer_closed = true;
  if (c.state != Connection::State::closing) {
    close_connection(c, CloseKind::abrupt);
  } else if (c.close_when_flushed) {
    c.close_when_flushed = false;
    loop_->close(c.socket);
  }
}

void Shard::on_closed(void* ctx) {
  auto* c = static_cast<Connection*>(ctx);
  if (c->state != Connection::State::closing) close_connection(*c, CloseKind::abrupt);
  timers_.cancel(c->timer);
  if (c->in_flush_list) std::erase(flush_list_, c);
  std::erase_if(paused_publishers_, [c](const auto& p) { return p.first == c; });
  if (c->in_held_list) std::erase(held_ack_connections_, c);
  connections_.erase(c);
  if (c->listener < listener_connections_.size()) --listener_connections_[c->listener];
  c->out.release_all();
  if (c->will) c->will->release();
  connection_slab_.destroy(c);
  if (shutting_down_) maybe_finish_shutdown();
}

void Shard::on_wake() {
  mesh_.cancel_sleep(id_);
  if (stop_requested_.load(std::memory_order_acquire) && !shutting_down_) begin_shutdown();
}

void Shard::on_tick() {
  ++tick_;
  timers_.advance(tick_, [this](io::TimerNode& n) { on_timer(*Connection::from_timer(&n)); });
  session_timers_.advance(tick_, [this](io::TimerNode& n) {
    Session* s = SessionAway::from_timer(&n)->session;
    if (!s->online && !s->pending) {
      log_debug("session '{}' expired", s->client_id.view());
      destroy_session(s);
    }
  });
  if (id_ == 0 && config_.sys_interval_s && tick_ >= next_sys_tick_) publish_sys_topics();
  if (!congested_sessions_.empty()) {
    auto congested = congested_sessions_;  // a client that stopped acking lets go here
    for (Session* s : congested)
      update_congestion(*s);
  }
  if (shutting_down_ && tick_ >= shutdown_deadline_tick_) {
    std::vector<Connection*> all;
    connections_.for_each([&](Connection* c) { all.push_back(c); });
    for (Connection* c : all) {
      if (c->state != Connection::State::closing) {
        close_connection(*c, CloseKind::abrupt);
      } else if (c->close_when_flushed) {
        c->close_when_flushed = false;
        loop_->close(c->socket);
      }
    }
    maybe_finish_shutdown();
  }
}

void Shard::on_turn_end() {
  mesh_.cancel_sleep(id_);
  drain_inbound();
  // Handling stashed packets can answer more of them locally: repeat until settled.
  while (!resume_list_.empty())
    resume_connections();
  if (!streaming_sessions_.empty()) {
    retained_turn_budget_ = 1024;
    auto waiting = std::move(streaming_sessions_);
    streaming_sessions_.clear();
    for (Session* s : waiting)
      s->in_stream_list = false;
    for (Session* s : waiting)
      pump_retained(*s);
    // Sessions still waiting on another shard's socket need another turn soon.
    for (Session* s : streaming_sessions_)
      if (s->connection.shard != id_) {
        loop_->wake();
        break;
      }
  }
  if (!held_ack_connections_.empty()) release_held_acks();
  for (std::size_t i = 0; i < flush_list_.size(); ++i) {
    Connection* c = flush_list_[i];
    c->in_flush_list = false;
    flush(*c);
  }
  flush_list_.clear();
  // Last, so that whatever this turn sent to other shards (a failed flush can close a
  // connection, which publishes its will) is pushed and its shard woken before we sleep.
  flush_backlogs();
  // About to sleep: declare it, then look once more (pairs with ShardMesh::notify).
  mesh_.prepare_sleep(id_);
  if (!mesh_.inbound_empty(id_)) loop_->wake();
}

// ---- lifecycle ----

void Shard::on_timer(Connection& c) {
  if (c.state == Connection::State::closing) return;
  if (c.state != Connection::State::connected) {
    log_info("closing a connection that completed no CONNECT within {} ms",
             config_.connect_timeout_ms);
    close_connection(c, CloseKind::abrupt);
    return;
  }
  // Keepalive: 1.5 times the interval since the last packet.
  std::uint64_t limit = ms_to_ticks(std::uint64_t(c.keepalive_s) * 1500);
  if (tick_ >= c.last_rx_tick + limit) {
    log_info("client '{}' silent for 1.5 x {} s: disconnecting", c.client_id.view(), c.keepalive_s);
    close_connection(c, CloseKind::abrupt);
  } else {
    timers_.schedule(c.timer, c.last_rx_tick + limit);
  }
}

void Shard::schedule_flush(Connection& c) {
  if (c.in_flush_list) return;
  c.in_flush_list = true;
  flush_list_.push_back(&c);
}

void Shard::flush(Connection& c) {
  if (c.peer_closed) return;
  if (c.layer && c.out.idle()) {
    // Pending holds MQTT bytes: turn them into the layer's wire form after what the layer
    // itself has to say (handshake records come before application records). Only when
    // nothing is on the wire, so pending never mixes the two.
    if (!flush_layer_output(c)) return;
    c.out.pending().swap(c.layer_wire);
  }
  auto region = c.out.begin_send();
  if (region.empty()) return;
  iovec iov{const_cast<std::byte*>(region.data()), region.size()};
  loop_->send(c.socket, &iov, 1);
}

// Encodes the connection's pending MQTT bytes through its layer onto the end of layer_wire.
bool Shard::flush_layer_output(Connection& c) {
  if (!c.out.has_pending()) return true;
  ByteBlock app;
  app.swap(c.out.pending());
  if (c.layer->on_app_data({app.data(), app.size()}, c.layer_wire)) return true;
  log_info("closing: {}", c.layer->error());
  close_connection(c, CloseKind::abrupt);
  return false;
}

void Shard::update_receive_pause(Connection& c) {
  if (c.state == Connection::State::closing) return;
  // The loop is told only about changes; both reasons share one switch.
  bool want = c.paused();
  if (want && !c.recv_paused_in_loop) {
    c.recv_paused_in_loop = true;
    loop_->pause_recv(c.socket);
  } else if (!want && c.recv_paused_in_loop) {
    c.recv_paused_in_loop = false;
    loop_->resume_recv(c.socket);
  }
}

void Shard::close_connection(Connection& c, CloseKind kind) {
  if (c.state == Connection::State::closing) return;
  bool was_connected = c.state == Connection::State::connected;
  c.state = Connection::State::closing;
  timers_.cancel(c.timer);
  if (was_connected) {
    counters_.clients_connected.store(
        counters_.clients_connected.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    if (!c.clean_disconnect) publish_will(c);
  }
  detach_from_session(c);
  c.rx_tail.release();
  if (c.layer && kind == CloseKind::graceful && !c.peer_closed) {
    flush_layer_output(c);
    c.layer->close(c.layer_wire);
  }
  if (kind == CloseKind::graceful && !c.peer_closed &&
      (c.out.queued() > 0 || !c.layer_wire.empty())) {
    c.close_when_flushed = true;  // say goodbye (CONNACK/DISCONNECT) first
    schedule_flush(c);
    return;
  }
  loop_->close(c.socket);
}

void Shard::begin_shutdown() {
  shutting_down_ = true;
  shutdown_deadline_tick_ = tick_ + ms_to_ticks(config_.shutdown_timeout_ms);
  loop_->stop_listening();
  std::vector<Connection*> all;
  connections_.for_each([&](Connection* c) { all.push_back(c); });
  for (Connection* c : all) {
    if (c->state == Connection::State::connected)
      send_disconnect(*c, core::ReasonCode::ServerShuttingDown);
    c->clean_disconnect = true;  // the server is leaving, not the client: no wills
    close_connection(*c, CloseKind::graceful);
  }
  maybe_finish_shutdown();
}

void Shard::maybe_finish_shutdown() {
  if (connections_.empty()) loop_->stop();
}

}  // namespace shardmq::broker
