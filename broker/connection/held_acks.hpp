// The PUBACK/PUBREC a publishing client is owed but does not get yet: held while the writes
// its publish caused are not yet durable (StorageLink); and a PUBCOMP while the release of
// its packet id is not yet durable. Sent in arrival order: once one is held, later ones
// queue behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardmq::broker {

class HeldAcks {
 public:
  // ack: the packet id | kPubRec (PUBREC) or kPubComp (PUBCOMP); neither: PUBACK.
  static constexpr std::uint32_t kPubRec = 0x10000;
  static constexpr std::uint32_t kPubComp = 0x20000;

  bool empty() const { return acks_.empty(); }
  std::size_t size() const { return acks_.size(); }
  // `mark`: the storage write the acknowledgement must wait for (0: none); `ticket`: the
  // other shards' writes (PeerDurability, 0: none).
  void hold(std::uint32_t ack, std::uint64_t mark, std::uint64_t ticket = 0) {
    acks_.push_back(Held{ack, mark, ticket});
    if (is_puback(ack)) ++pubacks_;
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
      if (is_puback(acks_[n].ack)) --pubacks_;
      send(acks_[n++].ack);
    }
    acks_.erase(acks_.begin(), acks_.begin() + static_cast<std::ptrdiff_t>(n));
    return acks_.empty();
  }

  // Storage is failing: in order, sends those whose writes are durable and refuses the
  // PUBACKs and PUBRECs whose writes are not; a PUBCOMP (which cannot refuse) keeps waiting,
  // and those behind it with it. Returns true when none is left.
  template <typename Send, typename Refuse>
  bool release_or_refuse(std::uint64_t durable_through, std::uint64_t peers_through, Send&& send,
                         Refuse&& refuse) {
    std::size_t n = 0;
    for (; n < acks_.size(); ++n) {
      const Held& h = acks_[n];
      const bool durable = h.mark <= durable_through && h.ticket <= peers_through;
      if (!durable && (h.ack & kPubComp)) break;
      if (is_puback(h.ack)) --pubacks_;
      if (durable)
        send(h.ack);
      else
        refuse(h.ack);
    }
    acks_.erase(acks_.begin(), acks_.begin() + static_cast<std::ptrdiff_t>(n));
    return acks_.empty();
  }

 private:
  static bool is_puback(std::uint32_t ack) { return !(ack & (kPubRec | kPubComp)); }
  struct Held {
    std::uint32_t ack;
    std::uint64_t mark;
    std::uint64_t ticket;
  };
  std::vector<Held> acks_;
  std::size_t pubacks_ = 0;
};

}  // namespace shardmq::broker
