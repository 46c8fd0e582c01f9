// A publish being routed on this shard: views of its topic, properties and payload (into a
// receive buffer, or into a PublishedMessage from another shard). The shared, refcounted
// copy is made only when something must outlive the call: another shard, a queue, a
// session on another shard's socket, the retained store.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/message/message_expiry.hpp"
#include "broker/message/published_message.hpp"

namespace shardmq::broker {

struct LocalPublish {
  std::string_view topic;
  std::string_view properties;  // MQTT 5 property block as received, without its length
  std::string_view payload;
  std::uint8_t qos = 0;
  bool retain = false;
  std::uint64_t origin_session = 0;
  bool expires = false;          // the properties carry a Message Expiry Interval
  ConnectionRef publisher;       // its connection (serial 0: none), held back by full queues
  std::uint64_t arrived_us = 0;  // its PUBLISH's arrival (0: a will, $SYS, a restored one)

  LocalPublish() = default;
  LocalPublish(const LocalPublish&) = delete;
  LocalPublish& operator=(const LocalPublish&) = delete;
  // Adopts one reference of a message received from another shard.
  explicit LocalPublish(PublishedMessage* m)
      : topic(m->topic()),
        properties(m->properties()),
        payload(m->payload()),
        qos(m->qos()),
        retain(m->retain()),
        origin_session(m->origin_session()),
        expires(m->expires()),
        publisher(m->publisher()),
        arrived_us(m->arrived_us()),
        shared_(m) {}
  ~LocalPublish() {
    if (shared_) shared_->release();
  }

  // The shared copy (made once, on first use). The caller takes no reference: add_ref()
  // what it keeps. Null only when memory ran out.
  PublishedMessage* shared() const {
    if (!shared_) {
      shared_ = PublishedMessage::create(topic, properties, payload, qos, retain, origin_session);
      if (!shared_) return nullptr;
      shared_->set_publisher(publisher);
      shared_->set_arrived_us(arrived_us);
      if (expires) arm_message_expiry(*shared_, steady_now_ms());
    }
    return shared_;
  }

 private:
  mutable PublishedMessage* shared_ = nullptr;
};

}  // namespace shardmq::broker
