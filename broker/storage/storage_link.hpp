// A shard's link to durable storage: forwards each change to the StorageSink, when one is
// configured (taking the client's name, and reading it only then), and counts the writes so an
// acknowledgement can wait for exactly the writes before it. With no sink (the default) nothing is
// stored, every write is durable at once, and each call is one predictable branch: the message path
// pays no virtual call.
//
// Owns: the shard's sink. Called by: the session store, the retained store, the protocol
// (whether a publish's acknowledgement may go), the router (the tickets of publishes it
// sends to other shards).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>

#include "broker/config/config.hpp"
#include "broker/containers/client_name.hpp"
#include "broker/storage/peer_durability.hpp"
#include "broker/storage/storage_sink.hpp"
#include "core/mqtt_types.hpp"

namespace shardmq::broker {

class StorageLink {
 public:
  explicit StorageLink(std::unique_ptr<StorageSink> sink = nullptr, PeerDurability peers = {})
      : sink_(std::move(sink)), peers_(std::move(peers)) {}

  void session_opened(const ClientName& id, std::uint32_t expiry_s) {
    if (!sink_) return;
    wrote();
    sink_->session_opened(id.view(), id.username(), expiry_s);
  }
  void session_ended(const ClientName& id) {
    if (!sink_) return;
    wrote();
    sink_->session_ended(id.view());
  }
  void subscription_added(const ClientName& id, std::string_view f, const SubscriptionOptions& o) {
    if (!sink_) return;
    wrote();
    sink_->subscription_added(id.view(), f, o);
  }
  void subscription_removed(const ClientName& id, std::string_view f) {
    if (!sink_) return;
    wrote();
    sink_->subscription_removed(id.view(), f);
  }
  void message_added(const ClientName& id, const PublishedMessage& m, std::uint8_t qos,
                     std::uint16_t packet_id, bool retain, std::uint32_t subscription_id) {
    if (!sink_) return;
    wrote();
    sink_->message_added(id.view(), m, qos, packet_id, retain, subscription_id);
  }
  void message_released(const ClientName& id, std::uint16_t packet_id) {
    if (!sink_) return;
    wrote();
    sink_->message_released(id.view(), packet_id);
  }
  void message_done(const ClientName& id, std::uint16_t packet_id) {
    if (!sink_) return;
    wrote();
    sink_->message_done(id.view(), packet_id);
  }
  void inbound_qos2_received(const ClientName& id, std::uint16_t packet_id) {
    if (!sink_) return;
    wrote();
    sink_->inbound_qos2_received(id.view(), packet_id);
  }
  void inbound_qos2_released(const ClientName& id, std::uint16_t packet_id) {
    if (!sink_) return;
    wrote();
    sink_->inbound_qos2_released(id.view(), packet_id);
  }
  void will_changed(const ClientName& id, const PublishedMessage* will) {
    if (!sink_) return;
    wrote();
    sink_->will_changed(id.view(), will);
  }
  void retained_changed(const PublishedMessage& m) {
    if (!sink_) return;
    wrote();
    sink_->retained_changed(m);
  }

  // Whether anything is stored at all (durability other than "none").
  bool stores() const { return sink_ != nullptr; }

  // End of the shard's turn: the sink hands this turn's writes to its writer.
  void end_turn() {
    if (sink_) sink_->end_turn();
  }
  void adopt(const RestoredShard& restored) {
    if (sink_) sink_->adopt(restored);
  }

  // The number of the last write issued: an acknowledgement that needs what came before
  // it waits until durable(mark).
  std::uint64_t write_mark() const { return writes_; }
  bool durable(std::uint64_t mark) const { return !sink_ || sink_->durable_through() >= mark; }
  std::uint64_t durable_through() const {
    return sink_ ? sink_->durable_through() : std::numeric_limits<std::uint64_t>::max();
  }
  // Writes are failing: the reason code to refuse what waits for them with (0: they are not).
  core::ReasonCode failing() const {
    return static_cast<core::ReasonCode>(sink_ ? sink_->failing() : 0);
  }
  // What other shards have on disk of this shard's publishes, and they of this one's.
  PeerDurability& peers() { return peers_; }
  const PeerDurability& peers() const { return peers_; }

 private:
  void wrote() { ++writes_; }

  std::unique_ptr<StorageSink> sink_;
  PeerDurability peers_;
  std::uint64_t writes_ = 0;
};

class StorageService;

// No storage without a service (durability "none": nothing survives a restart); else the
// shard's RocksdbSink, whose writer wakes the shard with `wake`.
std::unique_ptr<StorageLink> make_storage(StorageService* service, unsigned shard,
                                          std::function<void()> wake);

}  // namespace shardmq::broker
