#include "broker/storage/storage_service.hpp"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <system_error>

#include "broker/log.hpp"
#include "broker/storage/storage_recovery.hpp"

namespace shardmq::broker {

struct StorageService::Lane {
  std::vector<rocksdb::WriteBatch> queued;  // guarded by mu_
  std::uint64_t queued_through = 0;
  std::function<void()> wake;
  std::atomic<std::uint64_t> durable{0};
  std::atomic<std::uint64_t> backlog_bytes{0};  // submitted, not yet written
};

namespace {

// "<path>.corrupt-20261201T232900Z", or with "-2", "-3"... when that name is taken.
std::string aside_name(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::string name = fmt::format("{}.corrupt-{}", path, stamp);
  std::error_code ec;
  for (int n = 2; std::filesystem::exists(name, ec); ++n)
    name = fmt::format("{}.corrupt-{}-{}", path, stamp, n);
  return name;
}

rocksdb::Options store_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.manual_wal_flush = false;
  // The running broker only writes (it reads the store once, at start-up), and most of what
  // it writes is deleted again soon (a message and its entry, gone at the PUBACK): an
  // unsorted memtable takes each write as an append, sorted once when it is flushed, where
  // the default skip list spent most of the writer's time comparing keys
  // (docs/benchmarks.md, "Durability"). One writer thread: no concurrent memtable writes.
  options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  options.allow_concurrent_memtable_write = false;
  return options;
}

}  // namespace

Result<std::unique_ptr<StorageService>, std::string> StorageService::open(const Config& config,
                                                                          unsigned shards) {
  const std::string& path = config.storage_path;
  const rocksdb::Options options = store_options();
  for (bool moved = false;; moved = true) {
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
    std::string corruption;
    if (!s.ok()) {
      // Only corruption may be moved aside: a lock held by another broker, a missing
      // permission or a full disk is not the store's fault.
      if (!s.IsCorruption())
        return unexpected(fmt::format("cannot open the store at '{}': {}", path, s.ToString()));
      corruption = s.ToString();
    } else {
      std::unique_ptr<StorageService> service(new StorageService(config, shards, db));
      service->restored_ = recover_state(*db, shards);
      if (service->restored_.read_error.empty()) {
        service->first_message_id_ = service->restored_.next_message_id;
        return service;
      }
      corruption = service->restored_.read_error;
    }
    if (config.on_corruption == Config::OnCorruption::refuse || moved)
      return unexpected(fmt::format(
          "the store at '{}' is corrupt: {}. Nothing was changed; with [storage] on_corruption = "
          "\"move-aside\" the broker keeps it under a new name and starts with an empty store",
          path, corruption));
    const std::string aside = aside_name(path);
    std::error_code ec;
    std::filesystem::rename(path, aside, ec);
    if (ec)
      return unexpected(
          fmt::format("the store at '{}' is corrupt ({}) and cannot be moved to '{}': {}", path,
                      corruption, aside, ec.message()));
    log_error(
        "storage: the store at '{}' is corrupt ({}): moved aside to '{}', starting with an empty "
        "store (on_corruption = \"move-aside\")",
        path, corruption, aside);
  }
}

StorageService::StorageService(const Config& config, unsigned shards, rocksdb::DB* db)
    : durability_(config.durability),
      flush_interval_ms_(config.flush_interval_ms),
      path_(config.storage_path),
      db_(db) {
  for (unsigned i = 0; i < shards; ++i)
    lanes_.push_back(std::make_unique<Lane>());
}

StorageService::~StorageService() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    writer_.join();
    log_info("storage: {} batches written, {} WAL syncs", batches(), syncs());
  }
  if (db_) {
    rocksdb::Status s = db_->Close();
    if (!s.ok()) log_error("storage: closing '{}': {}", path_, s.ToString());
  }
}

// After a failed WAL write RocksDB refuses every later write: Resume() clears what it can;
// what it cannot (a failed WAL append) needs the database closed and opened again, which
// replays its WAL. Either may fail while the disk is still full: the next retry tries again.
void StorageService::recover_from_failure() {
  if (db_) {
    if (db_->Resume().ok()) return;
    db_->Close();  // (reports the error that stopped it: already logged)
    db_.reset();
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(store_options(), path_, &db);
  if (!s.ok()) {
    log_warn("storage: opening '{}' again: {}", path_, s.ToString());
    return;
  }
  db_.reset(db);
  log_info("storage: '{}' opened again after the failed write", path_);
}

void StorageService::start() {
  writer_ = std::thread([this] {
    set_log_thread_name("storage");
    // RocksDB counts into its per-thread perf context on every write unless told not to;
    // nothing here reads those counts.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    write_loop();
  });
}

std::uint64_t StorageService::durable_through(unsigned shard) const {
  return lanes_[shard]->durable.load(std::memory_order_acquire);
}

bool StorageService::backlogged(unsigned shard) const {
  return lanes_[shard]->backlog_bytes.load(std::memory_order_relaxed) > kBacklogLimitBytes;
}

void StorageService::attach(unsigned shard, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  lanes_[shard]->wake = std::move(wake);
}

void StorageService::detach(unsigned shard) {
  std::lock_guard lock(mu_);
  lanes_[shard]->wake = nullptr;
}

void StorageService::submit(unsigned shard, rocksdb::WriteBatch&& batch, std::uint64_t through) {
  {
    std::lock_guard lock(mu_);
    Lane& l = *lanes_[shard];
    l.backlog_bytes.fetch_add(batch.GetDataSize(), std::memory_order_relaxed);
    l.queued.push_back(std::move(batch));
    l.queued_through = through;
    pending_ = true;
  }
  cv_.notify_one();
}

// One round: take every shard's queued batches, write them, one fsync for all ("sync"), then
// move each shard's mark and wake it. A failed write or sync is retried (the batches keep
// their place in order) and the marks stay, so no acknowledgement goes for what is not on
// disk.
void StorageService::write_loop() {
  using Clock = std::chrono::steady_clock;
  const bool sync = durability_ == Config::Durability::sync;
  const auto interval = std::chrono::milliseconds(flush_interval_ms_);
  auto last_wal_sync = Clock::now();
  bool unsynced = false;  // "batched": written since the last WAL sync
  std::vector<std::vector<rocksdb::WriteBatch>> taken(lanes_.size());
  std::vector<std::uint64_t> through(lanes_.size(), 0);
  std::unique_lock lock(mu_);
  for (;;) {
    if (sync || !unsynced)
      cv_.wait(lock, [&] { return pending_ || stop_; });
    else
      cv_.wait_until(lock, last_wal_sync + interval, [&] { return pending_ || stop_; });
    const bool stopping = stop_;
    bool any = false;
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
      Lane& l = *lanes_[i];
      if (l.queued.empty()) continue;
      for (auto& b : l.queued)
        taken[i].push_back(std::move(b));
      l.queued.clear();
      through[i] = l.queued_through;
      any = true;
    }
    pending_ = false;
    lock.unlock();

    const auto round_began = Clock::now();
    rocksdb::Status status;
    if (!db_) status = rocksdb::Status::IOError("the store could not be opened again");
    rocksdb::WriteOptions wo;
    wo.sync = false;  // one SyncWAL below covers every batch of the round
    std::uint64_t written = 0;
    for (std::size_t i = 0; i < taken.size() && status.ok(); ++i)
      for (rocksdb::WriteBatch& b : taken[i]) {
        status = db_->Write(wo, &b);
        if (!status.ok()) break;
        ++written;
      }
    if (status.ok() && written) {
      unsynced = true;
      batches_written_.fetch_add(written, std::memory_order_relaxed);
    }
    const bool time_to_sync = sync || stopping || Clock::now() - last_wal_sync >= interval;
    if (status.ok() && unsynced && time_to_sync) {
      status = db_->SyncWAL();
      if (status.ok()) {
        syncs_.fetch_add(1, std::memory_order_relaxed);
        if (counters_) ShardCounters::bump(counters_->fsyncs);
        unsynced = false;
        last_wal_sync = Clock::now();
      }
    }

    if (status.ok()) {
      std::uint64_t round_bytes = 0;
      for (std::size_t i = 0; i < taken.size(); ++i) {
        std::uint64_t bytes = 0;
        for (const rocksdb::WriteBatch& b : taken[i])
          bytes += b.GetDataSize();
        lanes_[i]->backlog_bytes.fetch_sub(bytes, std::memory_order_relaxed);
        taken[i].clear();
        round_bytes += bytes;
      }
      if (counters_ && written) {
        ShardCounters::bump(counters_->commits);
        ShardCounters::bump(counters_->bytes, round_bytes);
        counters_->commit_us.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - round_began)
                .count()));
      }
    }
    lock.lock();
    if (!status.ok()) {
      const Failure was = failure_.exchange(
          status.IsNoSpace() ? Failure::no_space : Failure::io_error, std::memory_order_acq_rel);
      log_error(
          "storage: writing to '{}' failed: {}; QoS 1/2 messages not on disk are refused, "
          "retrying in 1 s",
          path_, status.ToString());
      if (was == Failure::none)  // the shards refuse what waits for the disk
        for (auto& l : lanes_)
          if (l->wake) l->wake();
      // Put back the whole round (a batch written again is written to the same effect: the
      // round's batches come again in order, ahead of anything queued since), and wait.
      for (std::size_t i = 0; i < lanes_.size(); ++i) {
        if (taken[i].empty()) continue;
        auto& q = lanes_[i]->queued;
        q.insert(q.begin(), std::make_move_iterator(taken[i].begin()),
                 std::make_move_iterator(taken[i].end()));
        taken[i].clear();
      }
      pending_ = true;
      if (stopping) {
        log_error("storage: stopping with writes that are not on disk");
        return;
      }
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
      lock.unlock();
      recover_from_failure();
      lock.lock();
      continue;
    }
    if (failure_.exchange(Failure::none, std::memory_order_acq_rel) != Failure::none)
      log_info("storage: writing to '{}' works again", path_);
    if (any)
      for (std::size_t i = 0; i < lanes_.size(); ++i) {
        if (!through[i]) continue;
        Lane& l = *lanes_[i];
        if (through[i] > l.durable.load(std::memory_order_relaxed)) {
          l.durable.store(through[i], std::memory_order_release);
          if (l.wake) l.wake();
        }
      }
    if (stopping && !pending_) return;
  }
}

}  // namespace shardmq::broker
