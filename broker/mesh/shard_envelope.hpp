// What crosses between shards, one fixed-size item per ring slot. Larger requests travel
// as a pointer to a heap object whose ownership passes to the receiver; publishes travel as
// a PublishedMessage pointer holding one reference for the receiver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/connection/connection_ref.hpp"
#include "broker/message/message_ref.hpp"
#include "broker/session/subscription.hpp"
#include "core/mqtt_types.hpp"
#include "core/packets.hpp"

namespace shardmq::broker {

class PublishedMessage;
struct Session;

struct ShardEnvelope {
  enum class Kind : std::uint8_t {
    // Routing.
    publish,          // ptr: PublishedMessage*; match it against this shard's index;
                      // target:aux the PeerDurability ticket (0: none)
    peer_durable,     // target:aux: this shard's writes for that ticket are on disk
    peer_ticket,      // target:aux: a ticket for what came before it on this ring (a
                      // shared_deliver): confirm it once this shard's writes for it are on disk
    retain_set,       // ptr: PublishedMessage* (empty payload: delete); seq: Lamport order
    interest_add,     // ptr: std::string* filter the sender now has subscribers for
    interest_remove,  // ptr: std::string* filter the sender no longer has
    barrier,          // seq: answer with barrier_ack once everything before it is applied
    barrier_ack,      // seq: the barrier answered
    // Shared subscriptions: member's home shard <-> the group's owner shard.
    shared_join,     // ptr: SharedJoin*
    shared_joined,   // ptr: the SubscribeRequest* of the SharedJoin, back to its home
    shared_state,    // target: member index; flags: 1 online, 0 offline
    shared_leave,    // ptr: SharedLeave*
    shared_deliver,  // ptr: PublishedMessage*; target: member index; aux: generation;
                     // seq: group id; flags: kSharedFinal
    shared_bounce,   // ptr: PublishedMessage*; seq: group id (the member was gone or offline)
    // Connection shard -> session home shard.
    attach,        // ptr: AttachRequest*
    detach,        // ptr: DetachNotice*
    client_ack,    // ptr: Session*; target: connection serial; aux: packet id; flags: type
    inbound_qos2,  // ptr: Session*; seq: packet id; flags: 1 received, 0 released;
                   // target:aux the PeerDurability ticket (0: none)
    subscribe,     // ptr: SubscribeRequest*
    unsubscribe,   // ptr: UnsubscribeRequest*
    // Session home shard -> connection shard.
    attached,  // ptr: AttachReply*
    deliver,  // ptr: PublishedMessage*; target: serial; aux: packet id; flags: qos|dup|retain; seq:
              // subscription id
    release,  // target: serial; aux: packet id (send PUBREL again after reconnect)
    packet,   // ptr: core::Packet* to write (SUBACK, UNSUBACK); target: serial
    kick,     // target: serial; close it, the session was taken over
    // flags 1: a session's queue is full and this publisher's messages wait for it: stop
    // reading it; flags 0: that session lets go (SessionStore::hold_publisher). target: serial
    hold_publisher,
  };
  Kind kind = Kind::publish;
  std::uint8_t flags = 0;
  std::uint16_t from = 0;
  std::uint32_t seq = 0;
  void* ptr = nullptr;
  std::uint32_t target = 0;
  std::uint32_t aux = 0;

  // publish, peer_durable, peer_ticket, inbound_qos2: the PeerDurability ticket, in target:aux.
  std::uint64_t ticket() const { return (std::uint64_t(target) << 32) | aux; }
  ShardEnvelope& set_ticket(std::uint64_t t) {
    target = static_cast<std::uint32_t>(t >> 32);
    aux = static_cast<std::uint32_t>(t);
    return *this;
  }
};

// Delivery flags.
inline constexpr std::uint8_t kDeliverQosMask = 0x03;
inline constexpr std::uint8_t kDeliverDup = 0x04;
inline constexpr std::uint8_t kDeliverRetain = 0x08;

// shared_deliver: deliver even to an offline member (the group has no online one).
inline constexpr std::uint8_t kSharedFinal = 0x01;

struct AttachRequest {
  std::string client_id;
  std::optional<std::string> username;  // as authenticated: access checks on deliveries ask it
  ConnectionRef connection;
  core::ProtocolVersion version = core::ProtocolVersion::v311;
  bool clean_start = true;
  std::uint32_t session_expiry_s = 0;  // 0: the session ends with the connection
  std::uint16_t receive_maximum = 65535;
  // The will, for durable storage to keep with the session; set only when something is
  // stored. The connection keeps its own reference.
  MessageRef will;
};

struct AttachReply {
  ConnectionRef connection;
  Session* session = nullptr;
  bool session_present = false;
  std::vector<std::uint16_t> qos2_awaiting_rel;  // inbound QoS 2 state kept by the session
};

struct DetachNotice {
  Session* session = nullptr;
  ConnectionRef connection;
  std::vector<std::uint16_t> qos2_awaiting_rel;
  std::optional<std::uint32_t> session_expiry_s;  // MQTT 5: set by the client's DISCONNECT
  // MQTT 5: a will with a Will Delay Interval, for the session to publish when the delay or
  // the session's end comes first (one reference; released with the notice if unused).
  PublishedMessage* will = nullptr;
  std::uint32_t will_delay_s = 0;

  DetachNotice() = default;
  DetachNotice(const DetachNotice&) = delete;
  DetachNotice& operator=(const DetachNotice&) = delete;
  ~DetachNotice();
};

struct SubscribeRequest {
  Session* session = nullptr;
  ConnectionRef connection;
  std::uint16_t packet_id = 0;
  std::uint32_t subscription_id = 0;
  struct Item {
    std::string filter;
    SubscriptionOptions options;
    core::RetainHandling retain_handling = core::RetainHandling::SendOnSubscribe;
    std::uint8_t granted = 0;  // filled by the home shard: QoS or a failure reason code
    bool existed = false;      // the session had this filter already
    // Decided on the connection's shard: over a topic limit, or the authoriser said no.
    enum class Refusal : std::uint8_t { none, invalid, not_authorised };
    Refusal refused = Refusal::none;
  };
  std::vector<Item> items;
};

struct UnsubscribeRequest {
  Session* session = nullptr;
  ConnectionRef connection;
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
};

class PublishedMessage;

// A session joins the group "{group}/{filter}" (key), owned by the shard that gets this.
struct SharedJoin {
  std::string key;
  std::size_t filter_at = 0;  // the filter's offset in key
  std::uint32_t index = 0;    // the member's slot on its home shard
  std::uint32_t generation = 0;
  bool online = false;
  SubscribeRequest* request = nullptr;  // opaque here: sent back in shared_joined
};

// A member leaves its group; the QoS 1 (and never sent QoS 2) messages it held go to
// another member (MQTT 5 §4.8.2). Each holds a reference.
struct SharedLeave {
  std::uint32_t index = 0;
  std::vector<PublishedMessage*> messages;
};

// Frees what an envelope owns (its heap request, or its message reference) without handling
// it: for envelopes left in rings and backlogs when the shards are torn down.
void release_envelope(const ShardEnvelope& e);

}  // namespace shardmq::broker
