// Names and per-packet validity of MQTT 5 reason codes.
#include <array>
#include <bitset>
#include <initializer_list>

#include "core/mqtt_types.hpp"

namespace shardmq::core {

std::string_view reason_code_name(ReasonCode rc) {
  switch (static_cast<std::uint8_t>(rc)) {
    case 0x00:
      return "Success";
    case 0x01:
      return "Granted QoS 1";
    case 0x02:
      return "Granted QoS 2";
    case 0x04:
      return "Disconnect with Will Message";
    case 0x10:
      return "No matching subscribers";
    case 0x11:
      return "No subscription existed";
    case 0x18:
      return "Continue authentication";
    case 0x19:
      return "Re-authenticate";
    case 0x80:
      return "Unspecified error";
    case 0x81:
      return "Malformed Packet";
    case 0x82:
      return "Protocol Error";
    case 0x83:
      return "Implementation specific error";
    case 0x84:
      return "Unsupported Protocol Version";
    case 0x85:
      return "Client Identifier not valid";
    case 0x86:
      return "Bad User Name or Password";
    case 0x87:
      return "Not authorized";
    case 0x88:
      return "Server unavailable";
    case 0x89:
      return "Server busy";
    case 0x8A:
      return "Banned";
    case 0x8B:
      return "Server shutting down";
    case 0x8C:
      return "Bad authentication method";
    case 0x8D:
      return "Keep Alive timeout";
    case 0x8E:
      return "Session taken over";
    case 0x8F:
      return "Topic Filter invalid";
    case 0x90:
      return "Topic Name invalid";
    case 0x91:
      return "Packet Identifier in use";
    case 0x92:
      return "Packet Identifier not found";
    case 0x93:
      return "Receive Maximum exceeded";
    case 0x94:
      return "Topic Alias invalid";
    case 0x95:
      return "Packet too large";
    case 0x96:
      return "Message rate too high";
    case 0x97:
      return "Quota exceeded";
    case 0x98:
      return "Administrative action";
    case 0x99:
      return "Payload format invalid";
    case 0x9A:
      return "Retain not supported";
    case 0x9B:
      return "QoS not supported";
    case 0x9C:
      return "Use another server";
    case 0x9D:
      return "Server moved";
    case 0x9E:
      return "Shared Subscriptions not supported";
    case 0x9F:
      return "Connection rate exceeded";
    case 0xA0:
      return "Maximum connect time";
    case 0xA1:
      return "Subscription Identifiers not supported";
    case 0xA2:
      return "Wildcard Subscriptions not supported";
    default:
      return "Unknown";
  }
}

std::string_view reason_code_name(ReasonCode rc, PacketType type) {
  if (static_cast<std::uint8_t>(rc) == 0x00) {
    if (type == PacketType::Disconnect) return "Normal disconnection";
    if (type == PacketType::SubAck) return "Granted QoS 0";
  }
  return reason_code_name(rc);
}

namespace {

using CodeSet = std::bitset<256>;

CodeSet make_set(std::initializer_list<int> codes) {
  CodeSet s;
  for (int c : codes)
    s.set(static_cast<std::size_t>(c));
  return s;
}

// The reason code tables of MQTT 5.0 §2.4 and the per-packet sections.
const std::array<CodeSet, 16>& allowed_codes() {
  static const std::array<CodeSet, 16> table = [] {
    std::array<CodeSet, 16> t{};
    t[2] = make_set({0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                     0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F});
    t[4] = make_set({0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
    t[5] = t[4];
    t[6] = make_set({0x00, 0x92});
    t[7] = t[6];
    t[9] = make_set({0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2});
    t[11] = make_set({0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91});
    t[14] = make_set({0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                      0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                      0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2});
    t[15] = make_set({0x00, 0x18, 0x19});
    return t;
  }();
  return table;
}

}  // namespace

bool reason_code_allowed(PacketType type, std::uint8_t code) {
  auto i = static_cast<std::size_t>(type);
  return i < 16 && allowed_codes()[i].test(code);
}

ConnectReturnCode connect_return_code_for(ReasonCode rc) {
  switch (rc) {
    case ReasonCode::Success:
      return ConnectReturnCode::Accepted;
    case ReasonCode::UnsupportedProtocolVersion:
      return ConnectReturnCode::UnacceptableProtocolVersion;
    case ReasonCode::ClientIdentifierNotValid:
      return ConnectReturnCode::IdentifierRejected;
    case ReasonCode::BadUserNameOrPassword:
    case ReasonCode::BadAuthenticationMethod:
      return ConnectReturnCode::BadUserNameOrPassword;
    case ReasonCode::NotAuthorized:
    case ReasonCode::Banned:
      return ConnectReturnCode::NotAuthorized;
    default:
      return ConnectReturnCode::ServerUnavailable;
  }
}

}  // namespace shardmq::core
