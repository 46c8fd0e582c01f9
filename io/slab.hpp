// Fixed-size object slab for one shard: objects are carved from pages and recycled through
// an intrusive LIFO free list (recently freed memory is the warmest). Single thread, no
// locks; pages are returned to the system only when the slab is destroyed, so after
// warm-up allocate/deallocate never call malloc.
#pragma once

#include <cstddef>
#include <new>
#include <utility>
#include <vector>

namespace shardmq::io {

class SlabAllocator {
 public:
  // Objects of `object_size` bytes aligned to `align` (a power of two), `per_page` per page.
  explicit SlabAllocator(std::size_t object_size, std::size_t align = alignof(std::max_align_t),
                         std::size_t per_page = 256);
  ~SlabAllocator();
  SlabAllocator(const SlabAllocator&) = delete;
  SlabAllocator& operator=(const SlabAllocator&) = delete;
  SlabAllocator(SlabAllocator&& o) noexcept;

  void* allocate() {
    if (!free_) grow();
    FreeNode* n = free_;
    free_ = n->next;
    ++in_use_;
    return n;
  }
  void deallocate(void* p) {
    auto* n = static_cast<FreeNode*>(p);
    n->next = free_;
    free_ = n;
    --in_use_;
  }

  std::size_t object_size() const { return stride_; }
  std::size_t in_use() const { return in_use_; }
  std::size_t pages() const { return pages_.size(); }
  std::size_t capacity() const { return pages_.size() * per_page_; }

 private:
  struct FreeNode {
    FreeNode* next;
  };
  void grow();

  std::size_t stride_;
  std::size_t align_;
  std::size_t per_page_;
  FreeNode* free_ = nullptr;
  std::size_t in_use_ = 0;
  std::vector<void*> pages_;
};

// Typed front end: create() constructs, destroy() destructs and recycles.
template <typename T>
class Slab {
 public:
  explicit Slab(std::size_t per_page = 256) : a_(sizeof(T), alignof(T), per_page) {}

  template <typename... A>
  T* create(A&&... args) {
    return new (a_.allocate()) T(std::forward<A>(args)...);
  }
  void destroy(T* p) {
    p->~T();
    a_.deallocate(p);
  }

  std::size_t in_use() const { return a_.in_use(); }
  std::size_t pages() const { return a_.pages(); }
  std::size_t capacity() const { return a_.capacity(); }

 private:
  SlabAllocator a_;
};

// ---- implementation ----

inline SlabAllocator::SlabAllocator(std::size_t object_size, std::size_t align,
                                    std::size_t per_page)
    : align_(align < alignof(FreeNode) ? alignof(FreeNode) : align),
      per_page_(per_page ? per_page : 1) {
  std::size_t s = object_size < sizeof(FreeNode) ? sizeof(FreeNode) : object_size;
  stride_ = (s + align_ - 1) & ~(align_ - 1);
}

inline SlabAllocator::SlabAllocator(SlabAllocator&& o) noexcept
    : stride_(o.stride_),
      align_(o.align_),
      per_page_(o.per_page_),
      free_(std::exchange(o.free_, nullptr)),
      in_use_(std::exchange(o.in_use_, 0)),
      pages_(std::move(o.pages_)) {
  o.pages_.clear();
}

inline SlabAllocator::~SlabAllocator() {
  for (void* p : pages_)
    ::operator delete(p, std::align_val_t(align_));
}

inline void SlabAllocator::grow() {
  auto* page = static_cast<char*>(::operator new(stride_* per_page_, std::align_val_t(align_)));
  pages_.push_back(page);
  // Thread the new objects so the first one is handed out first.
  for (std::size_t i = per_page_; i-- > 0;) {
    auto* n = reinterpret_cast<FreeNode*>(page + i * stride_);
    n->next = free_;
    free_ = n;
  }
}

}  // namespace shardmq::io
