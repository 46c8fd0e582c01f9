// IntrusiveHashIndex: finds objects by a key they already hold, through a chain pointer
// they carry. The index owns only its bucket array (one pointer per object at most, since
// it doubles when the objects outnumber the buckets), so an entry costs 8 bytes in the
// object and about 8 in the array: a std::unordered_map costs a 24-40 byte node per entry
// plus the bucket, a real figure at a million connections per host.
//
// Traits (static functions):
//   Key key(const T&)           the key, which must not change while indexed
//   T*& next(T&)                the object's chain pointer
//   std::size_t hash(Key)
// Not thread-safe; objects are not owned.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace shardmq::core {

template <typename T, typename Traits>
class IntrusiveHashIndex {
 public:
  using Key = decltype(Traits::key(std::declval<const T&>()));

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T* find(const Key& k) const {
    if (buckets_.empty()) return nullptr;
    for (T* t = buckets_[slot(Traits::hash(k))]; t; t = Traits::next(*t))
      if (Traits::key(*t) == k) return t;
    return nullptr;
  }

  // Adds `t`, whose key must not be indexed already.
  void insert(T* t) {
    if (size_ >= buckets_.size()) rehash(buckets_.empty() ? 16 : buckets_.size() * 2);
    T*& head = buckets_[slot(Traits::hash(Traits::key(*t)))];
    Traits::next(*t) = head;
    head = t;
    ++size_;
  }

  // Removes `t`; false when it was not indexed.
  bool erase(T* t) {
    if (buckets_.empty()) return false;
    for (T** link = &buckets_[slot(Traits::hash(Traits::key(*t)))]; *link;
         link = &Traits::next(**link)) {
      if (*link == t) {
        *link = Traits::next(*t);
        Traits::next(*t) = nullptr;
        --size_;
        return true;
      }
    }
    return false;
  }

  // Calls fn(T*) for every object. fn must not insert or erase.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (T* head : buckets_)
      for (T* t = head; t; t = Traits::next(*t))
        fn(t);
  }

 private:
  std::size_t slot(std::size_t h) const { return h & (buckets_.size() - 1); }

  void rehash(std::size_t n) {
    std::vector<T*> old(n, nullptr);
    old.swap(buckets_);
    for (T* head : old) {
      while (head) {
        T* t = head;
        head = Traits::next(*t);
        T*& b = buckets_[slot(Traits::hash(Traits::key(*t)))];
        Traits::next(*t) = b;
        b = t;
      }
    }
  }

  std::vector<T*> buckets_;  // power-of-two size
  std::size_t size_ = 0;
};

}  // namespace shardmq::core
