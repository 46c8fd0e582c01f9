#include "broker/routing/exact_interest.hpp"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace shardmq::broker {

ExactInterest::ExactInterest(unsigned stripes)
    : stripes_(new Stripe[std::bit_ceil(stripes ? stripes : 1u)]),
      stripe_mask_(std::bit_ceil(stripes ? stripes : 1u) - 1) {}

ExactInterest::~ExactInterest() {
  for (unsigned i = 0; i <= stripe_mask_; ++i) {
    std::vector<Entry*> entries;
    stripes_[i].index.for_each([&](Entry* e) { entries.push_back(e); });
    for (Entry* e : entries) {
      e->~Entry();
      ::operator delete(e);
    }
  }
}

void ExactInterest::set(std::string_view filter, unsigned shard, bool on) {
  if (shard >= kMaxShards) return;
  const std::uint64_t h = XXH3_64bits(filter.data(), filter.size());
  const Key key{filter, static_cast<std::uint32_t>(h)};
  const std::uint64_t bit = std::uint64_t(1) << shard;
  Stripe& s = stripe(h);
  {
    std::unique_lock guard(s.lock);
    Entry* e = s.index.find(key);
    if (on) {
      if (!e) {
        void* mem = ::operator new(sizeof(Entry) + filter.size());
        e = new (mem) Entry;
        e->hash = key.hash;
        e->size = static_cast<std::uint32_t>(filter.size());
        std::memcpy(e + 1, filter.data(), filter.size());
        s.index.insert(e);
      }
      if (e->mask & bit) return;  // nothing changes: cached routes stay valid
      e->mask |= bit;
    } else {
      if (!e || !(e->mask & bit)) return;
      e->mask &= ~bit;
      if (e->mask == 0) {
        s.index.erase(e);
        e->~Entry();
        ::operator delete(e);
      }
    }
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t ExactInterest::mask(std::string_view topic) const {
  const std::uint64_t h = XXH3_64bits(topic.data(), topic.size());
  const Stripe& s = stripe(h);
  std::shared_lock guard(s.lock);
  const Entry* e = s.index.find(Key{topic, static_cast<std::uint32_t>(h)});
  return e ? e->mask : 0;
}

std::size_t ExactInterest::size() const {
  std::size_t n = 0;
  for (unsigned i = 0; i <= stripe_mask_; ++i) {
    std::shared_lock guard(stripes_[i].lock);
    n += stripes_[i].index.size();
  }
  return n;
}

std::size_t ExactInterest::memory_bytes() const {
  std::size_t bytes = sizeof(Stripe) * (stripe_mask_ + 1);
  for (unsigned i = 0; i <= stripe_mask_; ++i) {
    std::shared_lock guard(stripes_[i].lock);
    stripes_[i].index.for_each(
        [&](const Entry* e) { bytes += sizeof(Entry) + e->size + sizeof(Entry*); });
  }
  return bytes;
}

}  // namespace shardmq::broker
