#include "broker/auth/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace shardmq::broker {
namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

// OpenSSL's EVP_DecodeBlock skips blanks, takes whole 4-character groups and counts '=' as
// decoded zero bytes, so the text is checked here first and the padding's bytes dropped after.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text,
                                                       Base64Padding padding) {
  if (text.empty()) return std::nullopt;
  std::size_t pad = 0;
  if (padding == Base64Padding::required) {
    if (text.size() % 4 != 0) return std::nullopt;
    while (pad < 2 && text[text.size() - 1 - pad] == '=')
      ++pad;
  }
  const std::string_view body = text.substr(0, text.size() - pad);
  if (!std::all_of(body.begin(), body.end(), is_base64_char)) return std::nullopt;
  std::string whole(text);
  if (padding == Base64Padding::none) {
    if (body.size() % 4 == 1) return std::nullopt;  // no byte ends there
    pad = (4 - body.size() % 4) % 4;
    whole.append(pad, '=');
  }
  std::vector<std::uint8_t> out(whole.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(whole.data()),
                                static_cast<int>(whole.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string encode_base64(std::span<const std::uint8_t> bytes, Base64Padding padding) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  if (padding == Base64Padding::none) {
    while (!out.empty() && out.back() == '=')
      out.pop_back();
  }
  return out;
}

}  // namespace shardmq::broker
