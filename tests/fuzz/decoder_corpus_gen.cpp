// Writes the decoder's seed corpus: every packet type at each level it exists in, with and
// without properties, plus a handful of malformed inputs. Usage: decoder_corpus_gen DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/encoder.hpp"

using namespace shardmq::core;

namespace {

std::string dir;
int written = 0;

void write(const std::string& name, const std::vector<std::byte>& b) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ++written;
}

void put(const std::string& name, const Packet& p, ProtocolVersion v) {
  std::vector<std::byte> b(encoded_size(p, v));
  if (!encode(p, v, b)) return;
  write(name + "_v" + std::to_string(static_cast<int>(v)), b);
}

void raw(const std::string& name, std::initializer_list<int> bytes) {
  std::vector<std::byte> b;
  for (int x : bytes)
    b.push_back(static_cast<std::byte>(x));
  write(name, b);
}

const StringPair kUser[] = {{"k", "v"}, {"trace", "1"}};
const std::uint32_t kSubId[] = {7};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  dir = argv[1];
  Properties rich;  // valid on PUBLISH
  rich.payload_format_indicator = 1;
  rich.message_expiry_interval = 60;
  rich.content_type = "text/plain";
  rich.response_topic = "reply";
  rich.correlation_data = as_bytes("cid");
  rich.topic_alias = 2;
  rich.user_properties = kUser;

  for (auto v : {ProtocolVersion::v31, ProtocolVersion::v311, ProtocolVersion::v5}) {
    bool v5 = v == ProtocolVersion::v5;
    Connect c;
    c.version = v;
    c.client_id = "fuzz";
    put("connect_min", c, v);
    c.will.emplace();
    c.will->qos = QoS::AtLeastOnce;
    c.will->topic = "will/t";
    c.will->payload = as_bytes("bye");
    c.username = "u";
    c.password = as_bytes("p");
    if (v5) {
      c.properties.session_expiry_interval = 100;
      c.properties.receive_maximum = 10;
      c.properties.authentication_method = "PLAIN";
      c.properties.authentication_data = as_bytes("x");
      c.properties.user_properties = kUser;
      c.will->properties.will_delay_interval = 3;
      c.will->properties.content_type = "t";
    }
    put("connect_full", c, v);

    ConnAck ca;
    ca.session_present = true;
    if (v5) {
      ca.properties.maximum_qos = 1;
      ca.properties.assigned_client_identifier = "gen-1";
      ca.properties.topic_alias_maximum = 5;
    }
    put("connack", ca, v);

    Publish p;
    p.topic = "a/b/c";
    p.payload = as_bytes("payload");
    put("publish_qos0", p, v);
    p.qos = QoS::ExactlyOnce;
    p.packet_id = 9;
    p.dup = true;
    p.retain = true;
    if (v5) p.properties = rich;
    put("publish_qos2", p, v);
    if (v5) {
      Publish alias;
      alias.properties.topic_alias = 2;
      put("publish_alias", alias, v);
      Publish to_client = p;
      to_client.properties.subscription_identifiers = kSubId;
      put("publish_subid", to_client, v);
    }

    Properties reason;
    if (v5) reason.reason_string = "why";
    put("puback", PubAck{1, v5 ? ReasonCode::NoMatchingSubscribers : ReasonCode::Success, reason},
        v);
    put("pubrec", PubRec{2, ReasonCode::Success, {}}, v);
    put("pubrel", PubRel{3, v5 ? ReasonCode::PacketIdentifierNotFound : ReasonCode::Success, {}},
        v);
    put("pubcomp", PubComp{4, ReasonCode::Success, reason}, v);

    Subscribe s;
    s.packet_id = 5;
    s.subscriptions.push_back({"a/+", QoS::AtLeastOnce, v5, v5, RetainHandling::SendOnSubscribe});
    s.subscriptions.push_back({"$share/g/x/#", QoS::AtMostOnce, false, false,
                               v5 ? RetainHandling::DoNotSend : RetainHandling::SendOnSubscribe});
    if (v5) s.properties.subscription_identifiers = kSubId;
    put("subscribe", s, v);
    SubAck sa;
    sa.packet_id = 5;
    sa.reason_codes = {ReasonCode::GrantedQoS1, ReasonCode::UnspecifiedError};
    put("suback", sa, v);
    Unsubscribe u;
    u.packet_id = 6;
    u.topic_filters = {"a/+", "#"};
    put("unsubscribe", u, v);
    UnsubAck ua;
    ua.packet_id = 6;
    if (v5) ua.reason_codes = {ReasonCode::Success, ReasonCode::NoSubscriptionExisted};
    put("unsuback", ua, v);
    put("pingreq", PingReq{}, v);
    put("pingresp", PingResp{}, v);
    Disconnect d;
    if (v5) {
      d.reason_code = ReasonCode::DisconnectWithWillMessage;
      d.properties.session_expiry_interval = 0;
    }
    put("disconnect", d, v);
    if (v5) {
      Auth a{ReasonCode::ContinueAuthentication, {}};
      a.properties.authentication_method = "SCRAM";
      a.properties.authentication_data = as_bytes("nonce");
      put("auth", a, v);
    }
  }
  // Several packets in one input (exercises the stream decoder).
  raw("multi_ping_pub_ping", {0xC0, 0x00, 0x30, 0x04, 0x00, 0x01, 't', 'x', 0xC0, 0x00});
  // Malformed.
  raw("bad_remaining_length", {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  raw("bad_qos3", {0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01});
  raw("bad_wildcard_topic", {0x30, 0x03, 0x00, 0x01, '#'});
  raw("bad_filter", {0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', 0x23, 0x00, 0x00});
  raw("bad_utf8_surrogate", {0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80});
  raw("bad_connect_reserved",
      {0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x01, 'c'});
  raw("bad_dup_property", {0x30, 0x0E, 0x00, 0x01, 't', 0x0A, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2});
  raw("bad_truncated", {0x30, 0x04, 0x00, 0x0A, 'a', 'b'});
  raw("bad_pubrel_flags", {0x60, 0x02, 0x00, 0x01});
  std::printf("wrote %d files to %s\n", written, dir.c_str());
  return 0;
}
