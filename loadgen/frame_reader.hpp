// Decoding for every client of one loop. Each client keeps only the bytes of a packet that a
// read cut in two (its `tail`, empty almost always); the decode options and the scratch Packet
// that decoding fills belong to the loop, shared by all its clients. core::StreamDecoder
// holds a scratch Packet of its own (~850 bytes): at a million clients, most of what the
// generator would cost.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/decoder.hpp"
#include "core/frame_tail.hpp"

namespace shardmq::loadgen {

class FrameReader {
 public:
  explicit FrameReader(core::DecodeOptions opts) : opts_(opts) {}

  // Decodes every complete packet of tail + data, calling fn(const core::Packet&) for each,
  // and leaves an incomplete last packet in tail. Ok, or the first decode error.
  template <typename F>
  core::DecodeError feed(std::vector<std::byte>& tail, std::span<const std::byte> data, F&& fn);

 private:
  core::DecodeOptions opts_;
  core::Packet scratch_;
};

template <typename F>
core::DecodeError FrameReader::feed(std::vector<std::byte>& tail, std::span<const std::byte> data,
                                    F&& fn) {
  if (!tail.empty()) {
    auto filled = core::fill_frame_tail(tail, data, opts_.max_packet_size);
    if (!filled) return filled.error();
    if (*filled == 0) return core::DecodeError::Ok;
    auto frame = core::peek_frame(tail, opts_.max_packet_size);
    core::DecodeError e = core::decode_frame(tail, frame->header_size, opts_, scratch_);
    if (e != core::DecodeError::Ok) return e;
    fn(static_cast<const core::Packet&>(scratch_));
    tail.clear();
    tail.shrink_to_fit();  // rare: keep idle clients small
  }
  while (!data.empty()) {
    auto frame = core::peek_frame(data, opts_.max_packet_size);
    if (!frame) return frame.error();
    if (frame->header_size == 0 || frame->total_size > data.size()) {
      tail.assign(data.begin(), data.end());
      return core::DecodeError::Ok;
    }
    core::DecodeError e =
        core::decode_frame(data.first(frame->total_size), frame->header_size, opts_, scratch_);
    if (e != core::DecodeError::Ok) return e;
    fn(static_cast<const core::Packet&>(scratch_));
    data = data.subspan(frame->total_size);
  }
  return core::DecodeError::Ok;
}

}  // namespace shardmq::loadgen
