#include "loadgen/frame_reader.hpp"

namespace shardmq::loadgen {

Result<std::size_t, core::DecodeError> FrameReader::fill_tail(
    std::vector<std::byte>& tail, std::span<const std::byte>& data) const {
  for (;;) {
    auto frame = core::peek_frame(tail, opts_.max_packet_size);
    if (!frame) return unexpected(frame.error());
    if (frame->header_size == 0) {
      // Fixed header still incomplete: one byte at a time, never past this packet.
      if (data.empty()) return std::size_t{0};
      tail.push_back(data.front());
      data = data.subspan(1);
      continue;
    }
    std::size_t need = frame->total_size - tail.size();
    std::size_t take = need < data.size() ? need : data.size();
    tail.insert(tail.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    return tail.size() == frame->total_size ? frame->total_size : std::size_t{0};
  }
}

}  // namespace shardmq::loadgen
