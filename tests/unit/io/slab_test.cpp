#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "io/buffer_pool.hpp"
#include "io/slab.hpp"

using namespace shardmq::io;

TEST_CASE("slab: distinct aligned objects, pages grow, LIFO reuse", "[io][slab]") {
  SlabAllocator a(40, 16, 8);
  CHECK(a.object_size() == 48);
  std::set<void*> seen;
  std::vector<void*> ptrs;
  for (int i = 0; i < 20; ++i) {
    void* p = a.allocate();
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
    CHECK(seen.insert(p).second);
    ptrs.push_back(p);
  }
  CHECK(a.in_use() == 20);
  CHECK(a.pages() == 3);
  CHECK(a.capacity() == 24);
  a.deallocate(ptrs[5]);
  CHECK(a.in_use() == 19);
  CHECK(a.allocate() == ptrs[5]);
  for (void* p : ptrs)
    a.deallocate(p);
  CHECK(a.in_use() == 0);
  CHECK(a.pages() == 3);  // pages are kept for reuse
  // All 24 come from the same pages: the 20 freed ones and the 4 never handed out.
  int reused = 0;
  for (int i = 0; i < 24; ++i)
    reused += static_cast<int>(seen.count(a.allocate()));
  CHECK(reused == 20);
  CHECK(a.pages() == 3);
}

TEST_CASE("slab<T>: constructs and destroys", "[io][slab]") {
  Slab<std::string> s(4);
  std::vector<std::string*> v;
  for (int i = 0; i < 10; ++i)
    v.push_back(s.create(std::string(100, static_cast<char>('a' + i))));
  CHECK(s.in_use() == 10);
  CHECK(*v[3] == std::string(100, 'd'));
  for (auto* p : v)
    s.destroy(p);
  CHECK(s.in_use() == 0);
}

TEST_CASE("buffer pool: size classes, reuse and oversize", "[io][slab]") {
  BufferPool pool;
  CHECK(BufferPool::class_index(1) == 0);
  CHECK(BufferPool::class_index(256) == 0);
  CHECK(BufferPool::class_index(257) == 1);
  CHECK(BufferPool::class_index(64 * 1024) == 8);
  CHECK(BufferPool::class_index(64 * 1024 + 1) == BufferPool::kClasses);

  PooledBuffer a = pool.acquire(300);
  CHECK(a.capacity == 512);
  std::memset(a.data, 1, a.capacity);
  PooledBuffer b = pool.acquire(10);
  CHECK(b.capacity == 256);
  CHECK(pool.in_use(1) == 1);
  CHECK(pool.in_use() == 2);
  std::byte* old = a.data;
  pool.release(a);
  CHECK(pool.acquire(400).data == old);
  PooledBuffer big = pool.acquire(100000);
  CHECK(big.capacity == 100000);
  CHECK(pool.oversize_in_use() == 1);
  std::memset(big.data, 2, big.capacity);
  pool.release(big);
  CHECK(pool.oversize_in_use() == 0);
  pool.release(b);
}
