// With durability "sync", a QoS 1/2 publish routed to other shards is acknowledged only once
// each of them has on disk what the publish made it write (a queued or in-flight message of a
// persistent session lives on the session's home shard, which writes it). Both ends of that,
// on each shard:
//
// - as the origin: every such publish takes the next ticket (one per publish, whatever the
//   shards it goes to), carried in its envelopes; a peer confirms a ticket once its writes up
//   to it are durable, and since each ring is FIFO a confirmation covers every earlier ticket
//   sent there. through() is the highest ticket every peer has confirmed or never needed.
// - as a peer: for each origin, the newest ticket that arrived and the local write mark after
//   it was handled; once that mark is durable, one confirmation goes back (one per origin and
//   turn, however many publishes it covers).
//
// - a relay: a shared-subscription publish goes to the group's owner shard, which hands it to
//   a member homed on a third shard, taking a ticket of its own for that (sent after the
//   delivery as a peer_ticket envelope); the owner confirms the origin's ticket only once its
//   own ticket is through too (arrived's `own`).
//
// Owns: the counters. Called by: the router (sent), the envelope dispatch (arrived,
// confirmed), the shard's turn end (confirm), the protocol (through).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace shardmq::broker {

class PeerDurability {
 public:
  PeerDurability() = default;
  PeerDurability(unsigned shards, bool enabled)
      : enabled_(enabled && shards > 1),
        sent_(shards, 0),
        confirmed_(shards, 0),
        arrived_(shards) {}

  bool enabled() const { return enabled_; }

  // Origin: a publish goes to the shards in `mask`; returns its ticket (0 when not tracked).
  std::uint64_t sent(std::uint64_t mask) {
    if (!enabled_) return 0;
    const std::uint64_t t = ++last_ticket_;
    for (; mask; mask &= mask - 1)
      sent_[static_cast<unsigned>(__builtin_ctzll(mask))] = t;
    return t;
  }
  std::uint64_t last_ticket() const { return last_ticket_; }
  void confirmed(unsigned from, std::uint64_t ticket) {
    confirmed_[from] = std::max(confirmed_[from], ticket);
  }
  // Every ticket up to this one is durable on every shard it went to.
  std::uint64_t through() const {
    std::uint64_t t = last_ticket_;
    for (std::size_t k = 0; k < sent_.size(); ++k)
      if (sent_[k] > confirmed_[k]) t = std::min(t, confirmed_[k]);
    return t;
  }

  // Peer: a publish with `ticket` from `from` was handled; this shard's writes for it are
  // those up to `write_mark`, and other shards' (it handed the publish on) those of its own
  // tickets up to `own` (0: none).
  void arrived(unsigned from, std::uint64_t ticket, std::uint64_t write_mark,
               std::uint64_t own = 0) {
    if (!ticket) return;
    Arrived& a = arrived_[from];
    a.ticket = ticket;
    a.mark = write_mark;
    a.own = std::max(a.own, own);
    if (!a.listed) {
      a.listed = true;
      waiting_.push_back(static_cast<std::uint16_t>(from));
    }
  }
  // Calls confirm(from, ticket) for each origin whose newest ticket is durable here.
  template <typename Confirm>
  void confirm(std::uint64_t durable_through, Confirm&& confirm) {
    if (waiting_.empty()) return;
    const std::uint64_t own_through = through();
    std::size_t kept = 0;
    for (std::uint16_t from : waiting_) {
      Arrived& a = arrived_[from];
      if (a.mark <= durable_through && a.own <= own_through) {
        a.listed = false;
        a.own = 0;
        confirm(static_cast<unsigned>(from), a.ticket);
      } else {
        waiting_[kept++] = from;
      }
    }
    waiting_.resize(kept);
  }

 private:
  struct Arrived {
    std::uint64_t ticket = 0;
    std::uint64_t mark = 0;
    std::uint64_t own = 0;  // this shard's own ticket it waits for too
    bool listed = false;
  };
  bool enabled_ = false;
  std::uint64_t last_ticket_ = 0;
  std::vector<std::uint64_t> sent_;       // by shard: the last ticket sent there
  std::vector<std::uint64_t> confirmed_;  // by shard: the last ticket it confirmed
  std::vector<Arrived> arrived_;          // by origin shard
  std::vector<std::uint16_t> waiting_;    // origins with an unconfirmed ticket
};

}  // namespace shardmq::broker
