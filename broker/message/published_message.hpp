// A PUBLISH on its way to other shards: topic, MQTT 5 properties and payload copied once
// out of the receive buffer into one block, shared by reference count between every shard
// and subscriber that delivers it. The last release frees it, on whichever shard that is.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "broker/connection/connection_ref.hpp"

namespace shardmq::broker {

class PublishedMessage {
 public:
  static PublishedMessage* create(std::string_view topic, std::string_view properties,
                                  std::string_view payload, std::uint8_t qos, bool retain,
                                  std::uint64_t origin_session) {
    std::size_t n = sizeof(PublishedMessage) + topic.size() + properties.size() + payload.size();
    void* mem = std::malloc(n);
    if (!mem) return nullptr;
    auto* m = new (mem) PublishedMessage();
    m->qos_ = qos;
    m->retain_ = retain;
    m->origin_session_ = origin_session;
    m->topic_len_ = static_cast<std::uint32_t>(topic.size());
    m->props_len_ = static_cast<std::uint32_t>(properties.size());
    m->payload_len_ = static_cast<std::uint32_t>(payload.size());
    char* p = m->bytes();
    copy(p, topic);
    copy(p + topic.size(), properties);
    copy(p + topic.size() + properties.size(), payload);
    return m;
  }

  void add_ref(std::uint32_t n = 1) { refs_.fetch_add(n, std::memory_order_relaxed); }
  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~PublishedMessage();
      std::free(this);
    }
  }

  std::string_view topic() const { return {bytes(), topic_len_}; }
  // The MQTT 5 property block as received (without its length prefix); empty for 3.1.x.
  std::string_view properties() const { return {bytes() + topic_len_, props_len_}; }
  std::string_view payload() const { return {bytes() + topic_len_ + props_len_, payload_len_}; }
  std::uint8_t qos() const { return qos_; }
  bool retain() const { return retain_; }
  std::uint64_t origin_session() const { return origin_session_; }
  // The connection that published it (serial 0: a will, $SYS, a copy): a full session queue
  // pauses it (SessionStore::hold_publisher).
  ConnectionRef publisher() const { return publisher_; }
  void set_publisher(ConnectionRef c) { publisher_ = c; }
  // When its PUBLISH arrived (DeliveryLatency::arrival_us; 0: not from a client's PUBLISH).
  std::uint64_t arrived_us() const { return arrived_us_; }
  void set_arrived_us(std::uint64_t us) { arrived_us_ = us; }

  // MQTT 5 Message Expiry (message_expiry.hpp): when the message stops being deliverable,
  // and where the 4-byte interval sits in properties() so a delivery can say what is left.
  bool expires() const { return expiry_offset_ != kNoExpiry; }
  std::uint64_t expires_at_ms() const { return expires_at_ms_; }
  std::uint32_t expiry_offset() const { return expiry_offset_; }
  void arm_expiry(std::uint32_t offset, std::uint64_t at_ms) {
    expiry_offset_ = offset;
    expires_at_ms_ = at_ms;
  }
  static constexpr std::uint32_t kNoExpiry = 0xFFFFFFFFu;

 private:
  PublishedMessage() = default;
  static void copy(char* to, std::string_view from) {
    if (!from.empty()) std::memcpy(to, from.data(), from.size());
  }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }

  std::atomic<std::uint32_t> refs_{1};
  std::uint8_t qos_ = 0;
  bool retain_ = false;
  std::uint32_t topic_len_ = 0;
  std::uint32_t props_len_ = 0;
  std::uint32_t payload_len_ = 0;
  std::uint32_t expiry_offset_ = kNoExpiry;
  std::uint64_t origin_session_ = 0;
  std::uint64_t expires_at_ms_ = 0;
  std::uint64_t arrived_us_ = 0;
  ConnectionRef publisher_;
};

}  // namespace shardmq::broker
