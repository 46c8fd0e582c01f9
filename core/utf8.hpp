// MQTT's UTF-8 rule for strings: well-formed UTF-8 (no overlongs, nothing above U+10FFFF),
// no UTF-16 surrogates (U+D800..U+DFFF) and no U+0000. The "SHOULD NOT" code points
// (controls, non-characters) are accepted.
#pragma once

#include <cstdint>
#include <string_view>

namespace shardmq::core {

enum class Utf8Status : std::uint8_t { Ok, IllFormed, NullCharacter };

Utf8Status check_mqtt_utf8(std::string_view s);

}  // namespace shardmq::core
