// A FIFO that owns no memory while empty. A default-constructed std::deque already holds
// about 600 bytes (its map and first block); a session keeps three queues, and a broker
// holding a million mostly idle sessions cannot afford 2 KB each for nothing.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

namespace shardmq::broker {

template <typename T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;

  bool empty() const { return !q_ || q_->empty(); }
  std::size_t size() const { return q_ ? q_->size() : 0; }
  T& front() { return q_->front(); }
  T& back() { return q_->back(); }

  void push_back(T v) {
    if (!q_) q_ = std::make_unique<std::deque<T>>();
    q_->push_back(std::move(v));
  }
  void pop_front() {
    q_->pop_front();
    if (q_->empty()) q_.reset();
  }
  void erase(iterator it) {
    q_->erase(it);
    if (q_->empty()) q_.reset();
  }
  template <typename Pred>
  std::size_t erase_if(Pred pred) {
    if (!q_) return 0;
    const std::size_t n = std::erase_if(*q_, pred);
    if (q_->empty()) q_.reset();
    return n;
  }
  void clear() { q_.reset(); }

  iterator begin() { return q_ ? q_->begin() : iterator(); }
  iterator end() { return q_ ? q_->end() : iterator(); }

 private:
  std::unique_ptr<std::deque<T>> q_;
};

}  // namespace shardmq::broker
