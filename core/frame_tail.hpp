// The buffering around decode_frame() for a packet that arrives in pieces, for callers that
// keep the pieces themselves: StreamDecoder, and shardmq-load's FrameReader, whose clients
// share one decoder and keep only this tail each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/decode_error.hpp"
#include "core/result.hpp"

namespace shardmq::core {

// Moves bytes from the front of `data` into `tail` (the start of a packet) until tail holds
// that whole packet, never past it; returns the packet's size, or 0 when data ran out first.
// Errors: those of peek_frame.
Result<std::size_t, DecodeError> fill_frame_tail(std::vector<std::byte>& tail,
                                                 std::span<const std::byte>& data,
                                                 std::uint32_t max_packet_size);

}  // namespace shardmq::core
