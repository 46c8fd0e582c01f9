// The PUBACK/PUBREC a publishing client is owed but does not get yet: held while
// subscribers downstream are congested (flow control instead of loss) or while the writes
// its publish caused are not yet durable (StorageLink). Sent in arrival order: once one is
// held, later ones queue behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardmq::broker {

class HeldAcks {
 public:
  static constexpr std::uint32_t kPubRec = 0x10000;  // ack | kPubRec: PUBREC, else PUBACK

  bool empty() const { return acks_.empty(); }
  std::size_t size() const { return acks_.size(); }
  // `mark`: the storage write the acknowledgement must wait for (0: none); `ticket`: the
  // other shards' writes (PeerDurability, 0: none).
  void hold(std::uint32_t ack, std::uint64_t mark, std::uint64_t ticket = 0) {
    acks_.push_back(Held{ack, mark, ticket});
    if (!(ack & kPubRec)) ++pubacks_;
  }
  void clear() {
    acks_.clear();
    pubacks_ = 0;
  }
  std::size_t pubacks() const { return pubacks_; }  // of size(): the PUBACKs

  // Sends, in order, those whose writes are durable; stops at the first that is not.
  // Returns true when none is left.
  template <typename Send>
  bool release(std::uint64_t durable_through, std::uint64_t peers_through, Send&& send) {
    std::size_t n = 0;
    while (n < acks_.size() && acks_[n].mark <= durable_through &&
           acks_[n].ticket <= peers_through) {
      if (!(acks_[n].ack & kPubRec)) --pubacks_;
      send(acks_[n++].ack);
    }
    acks_.erase(acks_.begin(), acks_.begin() + static_cast<std::ptrdiff_t>(n));
    return acks_.empty();
  }

 private:
  struct Held {
    std::uint32_t ack;
    std::uint64_t mark;
    std::uint64_t ticket;
  };
  std::vector<Held> acks_;
  std::size_t pubacks_ = 0;
};

}  // namespace shardmq::broker
