// The bytes the process's allocator has handed out and not yet had back ($SYS/broker/heap/
// current, shardmq_heap_bytes): jemalloc's stats.allocated when the broker runs on jemalloc,
// the sanitizer allocator's count under AddressSanitizer, glibc's mallinfo2 otherwise. A few
// microseconds (jemalloc refreshes its statistics): for readers of figures, not the message path.
#pragma once

#include <cstdint>

namespace shardmq::broker {

std::uint64_t heap_bytes_in_use();

}  // namespace shardmq::broker
