// One reference to a PublishedMessage, owned: released when the holder goes, moved (never
// copied) with it. For the requests between shards that carry a message beside their other
// fields, so those keep their default moves and destructors.
#pragma once

#include <utility>

#include "broker/message/published_message.hpp"

namespace shardmq::broker {

class MessageRef {
 public:
  MessageRef() = default;
  explicit MessageRef(PublishedMessage* m) : m_(m) {}  // adopts the reference
  MessageRef(MessageRef&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  MessageRef& operator=(MessageRef&& o) noexcept {
    if (this != &o) {
      reset();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  MessageRef(const MessageRef&) = delete;
  MessageRef& operator=(const MessageRef&) = delete;
  ~MessageRef() { reset(); }

  PublishedMessage* get() const { return m_; }
  explicit operator bool() const { return m_ != nullptr; }
  void reset() {
    if (m_) std::exchange(m_, nullptr)->release();
  }

 private:
  PublishedMessage* m_ = nullptr;
};

}  // namespace shardmq::broker
