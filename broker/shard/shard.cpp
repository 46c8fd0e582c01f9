#include "broker/shard/shard.hpp"

#include <algorithm>

#include <cstring>

#include "broker/auth/access_control.hpp"
#include "broker/config/runtime_settings.hpp"
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/http/http_server.hpp"
#include "broker/listener/listener.hpp"
#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/restored_state.hpp"
#include "broker/storage/storage_link.hpp"
#include "broker/sys/sys_topics.hpp"

namespace shardmq::broker {

Shard::Shard(unsigned id, const RuntimeSettings& settings,
             const std::vector<std::unique_ptr<ListenerRuntime>>& listeners, ShardMesh& mesh,
             BrokerStats& stats, AuthServices* auth, StorageService* storage)
    : settings_(settings),
      settings_generation_(settings.generation()),
      config_(*settings.current()),
      ctx_{id, mesh.shards(), config_, stats.shards[id]},
      listeners_(listeners),
      mesh_(mesh),
      stats_(stats) {
  access_ = make_access_control(config_, auth, [&mesh, id] { mesh.wake(id); });
  storage_ = make_storage(storage, id, [&mesh, id] { mesh.wake(id); });
  connections_ = std::make_unique<ConnectionTable>(ctx_, listeners_);
  link_ = std::make_unique<MeshLink>(ctx_, mesh_, *connections_);
  retained_ = std::make_unique<RetainedStore>(ctx_, *link_, *storage_);
  index_ = std::make_unique<SubscriptionIndex>(ctx_, *link_);
  sessions_ = std::make_unique<SessionStore>(ctx_, *index_, *retained_, *link_, *connections_,
                                             *storage_, *access_);
  router_ = std::make_unique<Router>(ctx_, *index_, *sessions_, *retained_, *link_, *storage_);
  protocol_ = std::make_unique<ClientProtocol>(ctx_, *connections_, *sessions_, *router_, *link_,
                                               *access_, *storage_);
  sessions_->set_will_publisher(protocol_.get());
  sys_ = std::make_unique<SysTopics>(ctx_, stats_, *router_, *retained_);
  http_ = std::make_unique<HttpServer>(ctx_, MetricsSources{stats_, mesh_, listeners_}, auth,
                                       [&mesh, id] { mesh.wake(id); });
  http_->set_assets(&find_dashboard_asset);
  link_->set_handler(this);
}

Shard::~Shard() {
  // Every shard thread has joined: free what is left, and tell nobody (the other shards are
  // going too).
  ctx_.destroying = true;
  http_.reset();
  sys_.reset();
  protocol_.reset();
  router_.reset();
  sessions_.reset();
  index_.reset();
  retained_.reset();
  link_.reset();
  connections_.reset();
}

void Shard::run(std::promise<StartResult> ready, std::shared_future<bool> go) {
  set_log_thread_name("shard " + std::to_string(ctx_.id));
  const Config& config = ctx_.config;
  StartResult r;
  io::LoopOptions lo;
  lo.backend = config.io;
  lo.recv_buffer_count = config.recv_buffers;
  lo.recv_buffer_size = config.recv_buffer_size;
  // io_uring's queues are fixed memory per shard (64 bytes a submission slot, 16 a
  // completion, four completions a slot): 4,096 slots (512 KiB) up to 2 shards, fewer as the
  // shards multiply and each serves a smaller share, 512 (64 KiB) from 16 shards on. A full
  // queue is submitted early, never lost.
  lo.queue_depth = std::clamp(8192u / std::max(ctx_.shards, 1u), 512u, 4096u);
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
  // The stored state first: the port accepts no connection (not even in the kernel's backlog)
  // while this shard still rebuilds its sessions and retained messages.
  restore();
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& l = config.listeners[i];
    int port = loop_->listen(l.host, l.port, static_cast<std::uint32_t>(i), io::ListenerOptions{});
    if (port < 0) {
      r.error = "cannot listen on " + listener_url(l) + ": " + std::strerror(-port);
      break;
    }
    r.ports.push_back(static_cast<std::uint16_t>(port));
  }
  mesh_.attach_loop(ctx_.id, loop_.get());
  connections_->attach(loop_.get(), protocol_.get());
  http_->attach(loop_.get(), io::backend_name(loop_->backend()));
  bool ok = r.error.empty();
  ready.set_value(std::move(r));
  if (!go.get() || !ok) {
    loop_.reset();
    return;
  }
  loop_->set_tick_interval(ShardContext::kTickMs);
  sys_->on_tick();
  sessions_->publish_restored_wills();  // before the first client is served
  loop_->run(*this);
  // Sockets are closed; what they owned was freed in on_closed. The loop itself stays
  // until every shard has stopped: others may still wake it (ShardMesh::notify).
}

void Shard::restore() {
  if (restore_retained_)
    for (PublishedMessage* m : *restore_retained_)
      retained_->restore(m);
  if (restore_sessions_) {
    storage_->adopt(*restore_sessions_);
    for (const RestoredSession& s : restore_sessions_->sessions)
      sessions_->restore(s);
  }
  restore_sessions_ = nullptr;
  restore_retained_ = nullptr;
}

void Shard::request_stop() {
  stop_requested_.store(true, std::memory_order_release);
  mesh_.wake(ctx_.id);
}

// ---- loop callbacks ----

void Shard::on_accept(std::uint32_t listener, io::SocketId socket, const io::PeerAddress& peer) {
  if (shutting_down_) {
    ctx_.counters.refuse(RefuseReason::server_busy);
    loop_->close(socket);
    return;
  }
  if (listener < listeners_.size() && !listeners_[listener]->config.serves_mqtt())
    return http_->accept(listener, socket, peer);
  connections_->accept(listener, socket, peer);
}

void Shard::on_data(void* ctx, std::span<const std::byte> data) {
  if (HttpServer::is_http(ctx)) [[unlikely]]
    return http_->on_data(ctx, data);
  protocol_->on_data(*static_cast<Connection*>(ctx), data);
}

void Shard::on_sent(void* ctx, std::size_t bytes) {
  if (HttpServer::is_http(ctx)) [[unlikely]]
    return http_->on_sent(ctx, bytes);
  auto& c = *static_cast<Connection*>(ctx);
  // A session here whose retained stream waits for this socket's output goes on after it.
  const bool drained_session =
      c.session_attached && c.home == ctx_.id && c.state == Connection::State::connected;
  connections_->on_sent(c, bytes);
  if (drained_session) sessions_->output_drained(*c.session);
}

void Shard::on_peer_closed(void* ctx, int) {
  if (HttpServer::is_http(ctx)) [[unlikely]]
    return http_->on_peer_closed(ctx);
  connections_->on_peer_closed(*static_cast<Connection*>(ctx));
}

void Shard::on_closed(void* ctx) {
  if (HttpServer::is_http(ctx)) [[unlikely]]
    http_->on_closed(ctx);
  else
    connections_->on_closed(*static_cast<Connection*>(ctx));
  if (shutting_down_ && nothing_open()) loop_->stop();
}

bool Shard::nothing_open() const {
  return connections_->empty() && http_->empty();
}

void Shard::on_wake() {
  link_->cancel_sleep();
  if (stop_requested_.load(std::memory_order_acquire) && !shutting_down_) begin_shutdown();
}

void Shard::on_tick() {
  ++ctx_.tick;
  connections_->on_tick();
  protocol_->on_tick();
  sessions_->on_tick();
  sys_->on_tick();
  http_->on_tick();
  if (shutting_down_ && ctx_.tick >= shutdown_deadline_tick_) {
    connections_->for_each([&](Connection& c) {
      if (c.state != Connection::State::closing)
        connections_->close(c, ConnectionTable::CloseKind::abrupt);
      else
        connections_->close_now_if_flushing(c);
    });
    if (nothing_open()) loop_->stop();
  }
}

void Shard::on_turn_end() {
  link_->cancel_sleep();
  if (settings_.generation() != settings_generation_) apply_settings();
  if (std::size_t n = link_->drain([this](ShardEnvelope& e) { on_envelope(e); }))
    ctx_.counters.mesh_batch.record(n);
  access_->deliver_answers();  // verdicts from the hash workers
  http_->deliver_answers();
  protocol_->resume_waiting();
  sessions_->on_turn_end();
  protocol_->finish_too_large();
  storage_->end_turn();  // this turn's writes go to the disk; acks whose writes are done go
  storage_->peers().confirm(storage_->durable_through(), [this](unsigned from, std::uint64_t t) {
    link_->send(from,
                ShardEnvelope{ShardEnvelope::Kind::peer_durable, 0, ctx_.self()}.set_ticket(t));
  });
  protocol_->release_acks();
  connections_->flush_all();
  // This turn's deliveries are written: their latency samples, with one clock read.
  ctx_.delivery_latency.end_turn(ctx_.counters.delivery_latency_us);
  // Last, so that whatever this turn sent to other shards (a failed flush can close a
  // connection, which publishes its will) is pushed and its shard woken before we sleep.
  link_->flush();
  // About to sleep: declare it, then look once more (pairs with ShardMesh::notify).
  if (link_->prepare_sleep()) loop_->wake();
}

void Shard::apply_settings() {
  settings_generation_ = settings_.generation();
  apply_runtime_settings(config_, *settings_.current());
  protocol_->settings_changed();
}

void Shard::begin_shutdown() {
  shutting_down_ = true;
  shutdown_deadline_tick_ = ctx_.tick + ShardContext::ms_to_ticks(ctx_.config.shutdown_timeout_ms);
  loop_->stop_listening();
  protocol_->begin_shutdown();
  http_->close_all();
  if (nothing_open()) loop_->stop();
}

}  // namespace shardmq::broker
