// The broker's one RocksDB database and the thread that writes to it. Each shard hands it
// the write batch of a turn (StorageService::submit, a mutex-guarded hand-off that never
// waits for the disk); the writer thread writes every shard's batches it has, makes them
// durable with one WAL fsync (group commit across shards and turns), then publishes for each
// shard how far its writes are durable and wakes the shard's loop. One writer, not one per
// shard: RocksDB serialises WAL appends anyway, and one fsync for every shard's batches is
// what makes many messages share one.
//
// Owns: the database, the writer thread, each shard's queue of batches and durable mark.
// Called by: the broker (open, recover, start), each shard's RocksdbSink.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/metrics/broker_stats.hpp"
#include "broker/storage/restored_state.hpp"
#include "core/result.hpp"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace shardmq::broker {

class StorageService {
 public:
  // Opens (or creates) the database at config.storage_path and reads it back (recover_state).
  // A store RocksDB finds corrupt, on opening or reading, is refused or, with on_corruption =
  // move-aside, renamed to "<path>.corrupt-<UTC time>" (logged) and replaced by an empty one.
  // The error names the path, RocksDB's status and what to do.
  static Result<std::unique_ptr<StorageService>, std::string> open(const Config& config,
                                                                   unsigned shards);
  ~StorageService();  // writes what is queued, stops the writer, closes the database
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  // What open() read back, sorted by home shard (taken once, before start()).
  RestoredState take_restored() { return std::move(restored_); }
  void start();

  Config::Durability durability() const { return durability_; }
  unsigned shards() const { return static_cast<unsigned>(lanes_.size()); }
  // Message ids for new messages start here (above every id recovered).
  std::uint64_t first_message_id() const { return first_message_id_; }

  // Shard side. `wake` is called on the writer thread when the shard's mark moves.
  void attach(unsigned shard, std::function<void()> wake);
  void detach(unsigned shard);
  // Queues the batch; every write up to `through` is in it or in one queued before.
  void submit(unsigned shard, rocksdb::WriteBatch&& batch, std::uint64_t through);
  std::uint64_t durable_through(unsigned shard) const;
  // More than kBacklogLimitBytes of the shard's batches wait for the writer: under "batched",
  // acknowledgements then wait for the disk as under "sync", which holds the publishers back
  // (TCP back-pressure) until the writer catches up, instead of the backlog growing in memory.
  static constexpr std::uint64_t kBacklogLimitBytes = 64ull << 20;
  bool backlogged(unsigned shard) const;
  // While the last write or sync failed (a full disk, an I/O error) and until one succeeds:
  // what is not durable yet is refused rather than waited for (ClientProtocol::release_acks).
  enum class Failure : std::uint8_t { none, no_space, io_error };
  Failure failure() const { return failure_.load(std::memory_order_acquire); }

  // Counters for the log and benchmarks (writer thread writes, anyone reads).
  std::uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  std::uint64_t batches() const { return batches_written_.load(std::memory_order_relaxed); }
  // Where the writer counts for /metrics; set before start().
  void set_counters(StorageCounters* c) { counters_ = c; }

 private:
  struct Lane;
  StorageService(const Config& config, unsigned shards, rocksdb::DB* db);
  void write_loop();
  void recover_from_failure();

  const Config::Durability durability_;
  const std::uint32_t flush_interval_ms_;
  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::uint64_t first_message_id_ = 1;
  RestoredState restored_;

  std::mutex mu_;  // guards every lane's queue and wake, and the flags below
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread writer_;
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> batches_written_{0};
  std::atomic<Failure> failure_{Failure::none};
  StorageCounters* counters_ = nullptr;
};

}  // namespace shardmq::broker
