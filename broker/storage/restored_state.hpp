// What start-up read back from the store, sorted by shard: every shard's replica gets all
// retained messages, each session goes to its home shard (XXH3_64(client id) % shards).
// Every PublishedMessage pointer here holds one reference, which its taker keeps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/message/published_message.hpp"
#include "broker/session/subscription.hpp"

namespace shardmq::broker {

struct RestoredEntry {
  PublishedMessage* message = nullptr;
  std::uint64_t message_id = 0;
  std::uint64_t seq = 0;
  std::uint8_t qos = 1;
  std::uint16_t packet_id = 0;  // 0: queued; else in flight
  bool released = false;
  bool retain = false;
  std::uint32_t subscription_id = 0;
};

struct RestoredSession {
  std::string client_id;
  std::optional<std::string> username;
  std::uint32_t expiry_s = 0;
  std::vector<std::pair<std::string, SubscriptionOptions>> subscriptions;
  std::vector<RestoredEntry> messages;           // in the order they were queued
  std::vector<std::uint16_t> qos2_awaiting_rel;  // inbound QoS 2 ids not yet released
  PublishedMessage* will = nullptr;  // as CONNECT gave it (Will Delay in its properties)
};

struct RestoredShard {
  std::vector<RestoredSession> sessions;
};

struct RestoredState {
  RestoredState() = default;
  RestoredState(const RestoredState&) = delete;
  RestoredState& operator=(const RestoredState&) = delete;
  RestoredState(RestoredState&&) = default;
  RestoredState& operator=(RestoredState&&) = default;  // into an empty one only
  ~RestoredState() {
    for (PublishedMessage* m : retained)
      m->release();
    for (RestoredShard& s : shards)
      for (RestoredSession& r : s.sessions)
        for (RestoredEntry& e : r.messages)
          if (e.message) e.message->release();
    for (RestoredShard& s : shards)
      for (RestoredSession& r : s.sessions)
        if (r.will) r.will->release();
  }
  std::vector<PublishedMessage*> retained;
  std::vector<RestoredShard> shards;
  std::uint64_t next_message_id = 1;  // above every id in the store
  std::size_t messages = 0;           // queued and in-flight entries, all sessions
  std::string read_error;  // RocksDB's status when the store could not be read to the end
};

}  // namespace shardmq::broker
