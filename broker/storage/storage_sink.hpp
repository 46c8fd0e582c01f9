// What durable storage is told: every change to sessions, subscriptions, queued and
// in-flight messages and retained messages, as it happens, on the shard's thread. An
// implementation queues the write and returns at once (a disk sync never runs on a shard's
// loop); it numbers the writes in the order it was told of them and reports how far they are
// on disk. A PUBACK/PUBREC for a publish waits until every write the publish caused is
// durable (see StorageLink).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "broker/message/published_message.hpp"
#include "broker/session/subscription.hpp"
#include "broker/storage/restored_state.hpp"

namespace shardmq::broker {

class StorageSink {
 public:
  virtual ~StorageSink() = default;

  // A session began, or was resumed with new settings.
  virtual void session_opened(std::string_view client_id, std::optional<std::string_view> username,
                              std::uint32_t expiry_s) = 0;
  virtual void session_ended(std::string_view client_id) = 0;
  virtual void subscription_added(std::string_view client_id, std::string_view filter,
                                  const SubscriptionOptions& options) = 0;
  virtual void subscription_removed(std::string_view client_id, std::string_view filter) = 0;
  // A QoS 1/2 message for the session, queued or (packet_id != 0) in flight, with the retain
  // flag and subscription identifier it goes with.
  virtual void message_added(std::string_view client_id, const PublishedMessage& m,
                             std::uint8_t qos, std::uint16_t packet_id, bool retain,
                             std::uint32_t subscription_id) = 0;
  // QoS 2: PUBREC received, PUBREL sent.
  virtual void message_released(std::string_view client_id, std::uint16_t packet_id) = 0;
  // The client acknowledged the message for good (PUBACK, PUBCOMP).
  virtual void message_done(std::string_view client_id, std::uint16_t packet_id) = 0;
  // Inbound QoS 2: the client's PUBLISH with this id was taken (PUBREC goes once this is
  // durable), and its PUBREL released it (PUBCOMP goes once that is durable, so the client
  // cannot reuse the id while the store still holds it).
  virtual void inbound_qos2_received(std::string_view client_id, std::uint16_t packet_id) = 0;
  virtual void inbound_qos2_released(std::string_view client_id, std::uint16_t packet_id) = 0;
  // The session's will: as its client's CONNECT gave it, while the client is connected or the
  // will waits for its Will Delay; nullptr once there is none (published, cancelled, a clean
  // DISCONNECT, a CONNECT without one).
  virtual void will_changed(std::string_view client_id, const PublishedMessage* will) = 0;
  // A retained message set (an empty payload clears the topic).
  virtual void retained_changed(const PublishedMessage& m) = 0;

  // The shard's turn ends: what it was told goes to the disk now.
  virtual void end_turn() {}
  // Start-up, before the shard serves: the sessions restored from this store.
  virtual void adopt(const RestoredShard&) {}

  // Writes are numbered 1, 2, ... in the order of the calls above; every write up to this
  // number is durable. The shard reads it each turn; an implementation that completes
  // writes on another thread wakes the shard's loop when it moves.
  virtual std::uint64_t durable_through() const = 0;
  // Whether writes are failing now (a full disk, an I/O error): 0 no, else the MQTT 5 reason
  // code to refuse a publish that waits for them with.
  virtual std::uint8_t failing() const { return 0; }
};

}  // namespace shardmq::broker
