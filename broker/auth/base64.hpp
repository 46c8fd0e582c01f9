// Base64 (RFC 4648, the standard alphabet) for the credential formats: Mosquitto's password
// hashes ($6$ and $7$ padded, argon2id's PHC strings unpadded) and SCRAM's messages and
// stored keys (padded). Strict decoding: a character outside the alphabet, a misplaced '='
// or a length no encoder writes is an error, never skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::broker {

enum class Base64Padding { required, none };

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text,
                                                       Base64Padding padding);
std::string encode_base64(std::span<const std::uint8_t> bytes, Base64Padding padding);

}  // namespace shardmq::broker
