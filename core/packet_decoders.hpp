// Per-packet decoding functions behind decode_frame (internal to the codec). Each reads the
// variable header and payload from r (exactly the packet's remaining length) into out.
#pragma once

#include "core/decode_error.hpp"
#include "core/decoder.hpp"
#include "core/wire_reader.hpp"

namespace shardmq::core::decoding {

DecodeError connect(WireReader& r, Packet& out);
DecodeError connack(WireReader& r, ProtocolVersion v, Packet& out);
DecodeError subscribe(WireReader& r, ProtocolVersion v, bool check_filters, Packet& out);
DecodeError suback(WireReader& r, ProtocolVersion v, Packet& out);
DecodeError unsubscribe(WireReader& r, ProtocolVersion v, Packet& out);
DecodeError unsuback(WireReader& r, ProtocolVersion v, Packet& out);

// Shared field readers.
DecodeError utf8_string(WireReader& r, std::string_view& s);
// The MQTT UTF-8 rules as a DecodeError (Ok, Utf8NullCharacter or InvalidUtf8).
DecodeError utf8_check(std::string_view s);
DecodeError topic_name(std::string_view topic);
DecodeError nonzero_packet_id(WireReader& r, std::uint16_t& id);
inline DecodeError end_of_packet(const WireReader& r) {
  return r.empty() ? DecodeError::Ok : DecodeError::TrailingBytes;
}

}  // namespace shardmq::core::decoding
