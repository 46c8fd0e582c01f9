// encode_publish_header: the header plus the payload must equal the whole PUBLISH.
#include "codec_test_support.hpp"
#include "property_fixture.hpp"

using namespace codec_test;

TEST_CASE("publish header + payload == encode(Publish)", "[codec][publish_header]") {
  std::string big_payload(200, 'p');  // remaining length needs 2 bytes
  for (auto v : {ProtocolVersion::v31, ProtocolVersion::v311, ProtocolVersion::v5}) {
    for (int q = 0; q <= 2; ++q) {
      for (bool with_props : {false, true}) {
        for (std::string_view payload :
             {std::string_view("hello"), std::string_view(big_payload)}) {
          INFO("level " << int(v) << " qos " << q << " props " << with_props);
          Properties props = all_properties(PropertyContext::Publish);
          PublishHeader h;
          h.topic = "devices/42/state";
          h.qos = static_cast<QoS>(q);
          h.retain = q == 2;
          h.dup = q == 1;
          h.packet_id = q ? 99 : 0;
          h.properties = with_props ? &props : nullptr;

          Publish p;
          p.topic = h.topic;
          p.qos = h.qos;
          p.retain = h.retain;
          p.dup = h.dup;
          p.packet_id = h.packet_id;
          if (with_props) p.properties = props;
          p.payload = as_bytes(payload);
          ByteVec whole = encode_vec(p, v);

          ByteVec header(publish_header_size(h, payload.size(), v));
          auto n = encode_publish_header(h, payload.size(), v, header);
          REQUIRE(n.has_value());
          CHECK(*n == header.size());
          CHECK(cat(header, str_bytes(payload)) == whole);
        }
      }
    }
  }
}

TEST_CASE("publish header: buffer too small", "[codec][publish_header]") {
  PublishHeader h;
  h.topic = "a/b";
  ByteVec small(3);
  auto n = encode_publish_header(h, 10, ProtocolVersion::v311, small);
  REQUIRE_FALSE(n.has_value());
  CHECK(n.error() == EncodeError::BufferTooSmall);
}
