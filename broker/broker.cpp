#include "broker/broker.hpp"

#include <pthread.h>
#include <sched.h>

#include <bit>
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "broker/auth/auth_services.hpp"
#include "broker/log.hpp"
#include "broker/routing/exact_interest.hpp"
#include "broker/shard/shard.hpp"
#include "broker/storage/storage_service.hpp"

namespace shardmq::broker {

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

Broker::Broker(Config config) : config_(std::move(config)) {
  if (config_.listeners.empty()) config_.listeners.push_back(ListenerConfig{});
  settings_ = std::make_unique<RuntimeSettings>(config_);
}

Broker::~Broker() {
  stop();
}

bool Broker::start() {
  std::vector<int> cpus = usable_cpus();
  unsigned n = config_.shards ? config_.shards : static_cast<unsigned>(cpus.size());
  // Which shards want a filter is a 64-bit mask (ExactInterest, ShardInterest): a host with
  // more cores runs 64 shards, unpinned.
  if (n > ExactInterest::kMaxShards) {
    log_info("{} usable CPUs: 64 shards, the most there can be", n);
    n = ExactInterest::kMaxShards;
  }
  // Pinning only makes sense when there is a core for every shard; with more shards than
  // cores (one shard's io_uring holds at most RLIMIT_NOFILE sockets, so a million connections
  // on a host with a low limit need many) the threads share the cores as the kernel sees fit.
  bool pin = n <= cpus.size();
  if (pin)
    log_info("{} shard(s) pinned one per CPU, to CPUs {}", n,
             fmt::join(cpus.begin(), cpus.begin() + n, ","));
  else
    log_info("{} shards on {} usable CPU(s): not pinned, the shards' threads share the CPUs", n,
             cpus.size());
  for (const ListenerConfig& l : config_.listeners) {
    auto rt = ListenerRuntime::create(l);
    if (!rt) {
      log_error("{}", rt.error());
      return false;
    }
    listeners_.push_back(std::move(*rt));
  }
  auto auth = AuthServices::create(config_);
  if (!auth) {
    log_error("{}", auth.error().to_string());
    return false;
  }
  auth_ = std::move(*auth);
  mesh_ = std::make_unique<ShardMesh>(n, ShardMesh::ring_capacity_for(n));
  stats_.init(n, static_cast<unsigned>(listeners_.size()));
  // Durable state is read back before any shard serves (each restores its own part).
  const auto restore_began = std::chrono::steady_clock::now();
  RestoredState restored;
  if (config_.durability != Config::Durability::none) {
    auto service = StorageService::open(config_, n);
    if (!service) {
      log_error("storage: {}", service.error());
      return false;
    }
    storage_ = std::move(*service);
    restored = storage_->take_restored();
    storage_->set_counters(&stats_.storage);
    storage_->start();
  }

  std::vector<std::future<Shard::StartResult>> ready;
  std::promise<bool> go;
  std::shared_future<bool> go_future = go.get_future().share();
  for (unsigned i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>(i, *settings_, listeners_, *mesh_, stats_,
                                              auth_.get(), storage_.get()));
    if (storage_) shards_.back()->restore_from(&restored.shards[i], &restored.retained);
    std::promise<Shard::StartResult> p;
    ready.push_back(p.get_future());
    Shard* shard = shards_.back().get();
    int cpu = pin ? cpus[i] : -1;
    threads_.emplace_back([shard, cpu, p = std::move(p), go_future]() mutable {
      if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      }
      shard->run(std::move(p), go_future);
    });
  }

  bool ok = true;
  for (unsigned i = 0; i < n; ++i) {
    Shard::StartResult r = ready[i].get();
    if (!r.error.empty()) {
      log_error("shard {}: {}", i, r.error);
      ok = false;
      continue;
    }
    if (i == 0) {
      bound_ports_ = r.ports;
      log_info("io backend: {}{}", r.backend,
               r.fallback_reason.empty() ? "" : " (" + r.fallback_reason + ")");
      if (r.backend == "io_uring")
        log_info("receive buffers per shard: {} x {} bytes", std::bit_ceil(config_.recv_buffers),
                 config_.recv_buffer_size);
      else
        log_info("receive buffer per shard: {} bytes", config_.recv_buffer_size);
      for (std::size_t l = 0; l < config_.listeners.size(); ++l) {
        ListenerConfig shown = config_.listeners[l];
        shown.port = r.ports[l];
        log_info("listening on {}", listener_url(shown));
      }
    }
  }
  if (storage_ && ok) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - restore_began)
                        .count();
    std::size_t sessions = 0;
    for (const RestoredShard& s : restored.shards)
      sessions += s.sessions.size();
    log_info(
        "storage: '{}' ({} durability): restored {} retained messages, {} sessions, {} "
        "queued or in-flight messages in {} ms",
        config_.storage_path, durability_name(config_.durability), restored.retained.size(),
        sessions, restored.messages, ms);
  }
  go.set_value(ok);
  if (!ok) {
    for (auto& t : threads_)
      t.join();
    threads_.clear();
    shards_.clear();
  }
  return ok;
}

void Broker::reload(const Config* fresh) {
  reload_tls();
  if (auth_) {
    if (auto r = auth_->reload(); !r)
      log_error("reload failed, keeping the old password file and ACL: {}", r.error().to_string());
    else if (!r->empty())
      log_info("reloaded {}", *r);
  }
  if (fresh) reload_settings(*fresh);
}

void Broker::reload_settings(Config fresh) {
  if (fresh.listeners.empty()) fresh.listeners.push_back(ListenerConfig{});
  for (const std::string& name : restart_only_changes(config_, fresh))
    log_warn("{} changed: needs a restart (kept)", name);
  apply_runtime_settings(config_, fresh);
  set_log_level(config_.log_level);
  set_log_format(config_.log_format);
  settings_->publish(config_);  // the shards take it at the end of their turns
  log_info("reloaded the run-time settings");
}

void Broker::reload_tls() {
  for (auto& l : listeners_) {
    if (!l->config.uses_tls()) continue;
    if (auto r = l->reload_tls(); !r)
      log_error("TLS reload failed, keeping the old certificate: {}", r.error());
    else
      log_info("reloaded TLS certificate for {}", listener_url(l->config));
  }
}

void Broker::stop() {
  if (threads_.empty()) return;
  for (auto& s : shards_)
    s->request_stop();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
  shards_.clear();
}

}  // namespace shardmq::broker
