// Reading and writing MQTT 5 property blocks (internal to the codec).
#pragma once

#include "core/decode_error.hpp"
#include "core/properties.hpp"
#include "core/wire_reader.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::core {

// Reads a property block (length varint + properties) into props, enforcing which
// properties ctx allows, once-only properties, value ranges and UTF-8.
DecodeError read_properties(WireReader& r, PropertyContext ctx, Properties& props);

// Writes the block: length varint, then properties_content_size(p) bytes.
void write_properties(WireWriter& w, const Properties& p);

// Whether every string/binary property fits its 16-bit length.
bool properties_fit(const Properties& p);

}  // namespace shardmq::core
