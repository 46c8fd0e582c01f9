// A connection's outbound bytes: packets are appended to `pending` while `sending` is on
// the wire, so the kernel's view of the in-flight buffer never moves. Memory is held only
// while bytes are queued: an idle connection owns no buffer.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>

#include "io/byte_block.hpp"

namespace shardmq::broker {

using io::ByteBlock;

class OutBuffer {
 public:
  // Bytes queued and not yet acknowledged by the kernel.
  std::size_t queued() const { return sending_.size() - sent_ + pending_.size(); }
  bool in_flight() const { return in_flight_; }
  bool has_pending() const { return !pending_.empty(); }
  // Nothing on the wire: no send in flight and no unsent remainder of one.
  bool idle() const { return !in_flight_ && sent_ == sending_.size(); }

  ByteBlock& pending() { return pending_; }

  // Moves pending bytes onto the wire slot; returns the region to send, or empty when a
  // send is already in flight or nothing is queued.
  std::span<const std::byte> begin_send() {
    if (in_flight_) return {};
    if (sent_ == sending_.size()) {
      if (pending_.empty()) return {};
      sending_.clear();
      sending_.swap(pending_);
      sent_ = 0;
    }
    in_flight_ = true;
    return {sending_.data() + sent_, sending_.size() - sent_};
  }

  // The kernel took `n` bytes of the region begin_send gave.
  void complete_send(std::size_t n) {
    in_flight_ = false;
    sent_ += n;
    if (sent_ == sending_.size() && pending_.empty()) {
      sending_.release();  // idle again: an idle connection holds no buffer
      sent_ = 0;
    }
  }

  void release_all() {
    sending_.release();
    pending_.release();
    sent_ = 0;
    in_flight_ = false;
  }

 private:
  ByteBlock sending_;
  ByteBlock pending_;
  std::size_t sent_ = 0;
  bool in_flight_ = false;
};

}  // namespace shardmq::broker
