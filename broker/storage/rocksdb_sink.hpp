// A shard's StorageSink onto the broker's RocksDB store. On the shard's thread it turns each
// change into Puts and Deletes in the turn's write batch (key layout: storage_keys.hpp), and
// at the end of the turn hands the batch to the StorageService's writer. It remembers, for
// the persistent sessions homed here, which keys hold their messages, and for each message
// how many of those entries refer to it, so a message queued for many sessions is written
// once and deleted with its last entry.
//
// Sessions with no expiry (clean sessions) are not stored: their calls count as writes that
// are durable at once.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/storage/storage_service.hpp"
#include "broker/storage/storage_sink.hpp"

namespace shardmq::broker {

class RocksdbSink final : public StorageSink {
 public:
  RocksdbSink(StorageService& service, unsigned shard, std::function<void()> wake);
  ~RocksdbSink() override;  // hands over the last batch, lets go of its messages

  void session_opened(std::string_view client_id, std::optional<std::string_view> username,
                      std::uint32_t expiry_s) override;
  void session_ended(std::string_view client_id) override;
  void subscription_added(std::string_view client_id, std::string_view filter,
                          const SubscriptionOptions& options) override;
  void subscription_removed(std::string_view client_id, std::string_view filter) override;
  void message_added(std::string_view client_id, const PublishedMessage& m, std::uint8_t qos,
                     std::uint16_t packet_id, bool retain, std::uint32_t subscription_id) override;
  void message_released(std::string_view client_id, std::uint16_t packet_id) override;
  void message_done(std::string_view client_id, std::uint16_t packet_id) override;
  void inbound_qos2_received(std::string_view client_id, std::uint16_t packet_id) override;
  void inbound_qos2_released(std::string_view client_id, std::uint16_t packet_id) override;
  void will_changed(std::string_view client_id, const PublishedMessage* will) override;
  void retained_changed(const PublishedMessage& m) override;
  void end_turn() override;
  void adopt(const RestoredShard& restored) override;
  std::uint64_t durable_through() const override;
  std::uint8_t failing() const override;

 private:
  struct Entry {
    std::uint64_t seq = 0;
    const PublishedMessage* message = nullptr;
    std::uint64_t message_id = 0;
    std::uint8_t qos = 1;
    std::uint16_t packet_id = 0;
    bool released = false;
    bool retain = false;
    std::uint32_t subscription_id = 0;
  };
  struct Client {
    std::uint64_t next_seq = 1;
    std::deque<Entry> queued;     // in queue order
    std::vector<Entry> inflight;  // by packet id
    bool will = false;            // a w/ key is stored
  };
  struct Stored {
    std::uint64_t id = 0;
    std::uint32_t entries = 0;  // entries of this shard's sessions that refer to it
  };

  Client* find(std::string_view client_id);
  std::uint64_t hold(const PublishedMessage& m);
  void let_go(const PublishedMessage* m);
  void put_entry(std::string_view client_id, const Entry& e);
  void forget(std::string_view client_id);

  StorageService& service_;
  const unsigned shard_;
  const bool acks_wait_;  // "sync": durable only once the writer says so
  rocksdb::WriteBatch batch_;
  std::uint64_t told_ = 0;       // writes numbered so far (as StorageLink counts them)
  std::uint64_t submitted_ = 0;  // handed to the writer up to here
  std::uint64_t settled_ = 0;    // durable without a write (nothing in them to store)
  std::uint64_t next_message_id_;
  std::unordered_map<std::string, Client> clients_;               // persistent sessions homed here
  std::unordered_map<const PublishedMessage*, Stored> messages_;  // each holds a reference
};

}  // namespace shardmq::broker
