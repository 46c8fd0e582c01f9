// A retained message as a shard's replica holds it: a reference to the shared message and
// the Lamport order of the update that set it (replicas keep the highest).
#pragma once

#include <cstdint>
#include <utility>

#include "broker/message/published_message.hpp"

namespace shardmq::broker {

class RetainedMessage {
 public:
  RetainedMessage() = default;
  RetainedMessage(PublishedMessage* m, std::uint64_t order) : m_(m), order_(order) {
    if (m_) m_->add_ref();
  }
  RetainedMessage(const RetainedMessage& o) : RetainedMessage(o.m_, o.order_) {}
  RetainedMessage(RetainedMessage&& o) noexcept
      : m_(std::exchange(o.m_, nullptr)), order_(o.order_) {}
  RetainedMessage& operator=(RetainedMessage o) noexcept {
    std::swap(m_, o.m_);
    std::swap(order_, o.order_);
    return *this;
  }
  ~RetainedMessage() {
    if (m_) m_->release();
  }

  PublishedMessage* message() const { return m_; }
  std::uint64_t order() const { return order_; }
  // For RetainedTree::total_bytes().
  std::size_t size() const { return m_ ? m_->payload().size() + m_->topic().size() : 0; }

 private:
  PublishedMessage* m_ = nullptr;
  std::uint64_t order_ = 0;
};

}  // namespace shardmq::broker
