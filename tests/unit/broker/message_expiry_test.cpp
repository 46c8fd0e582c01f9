// Message Expiry on a shared message (the interval left, patched into a copy of the property
// block) and the Will Delay Interval taken out of a will's properties.
#include <catch2/catch.hpp>
#include <string>

#include "broker/message/message_expiry.hpp"
#include "broker/message/will_message.hpp"

using namespace shardmq::broker;

namespace {

std::string u32_property(char id, std::uint32_t v) {
  return std::string{id, static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}
const std::string kContentType = std::string("\x03\x00\x0Atext/plain", 13);

}  // namespace

TEST_CASE("a message with a Message Expiry Interval is sent with what is left of it") {
  const std::string props = kContentType + u32_property(0x02, 10);
  PublishedMessage* m = PublishedMessage::create("t", props, "payload", 1, false, 0);
  arm_message_expiry(*m, 1000);
  REQUIRE(m->expires());
  CHECK(m->expires_at_ms() == 11000);
  std::string scratch;
  CHECK(properties_to_send(*m, 1000, scratch) == props);  // no wait yet
  CHECK(properties_to_send(*m, 4500, scratch) ==
        kContentType + u32_property(0x02, 7));  // 6.5 s left
  CHECK(properties_to_send(*m, 10999, scratch) == kContentType + u32_property(0x02, 1));
  CHECK_FALSE(message_expired(*m, 10999));
  CHECK(message_expired(*m, 11000));
  CHECK(m->properties() == props);  // the shared message is never changed
  m->release();

  PublishedMessage* plain = PublishedMessage::create("t", kContentType, "p", 1, false, 0);
  arm_message_expiry(*plain, 1000);
  CHECK_FALSE(plain->expires());
  CHECK_FALSE(message_expired(*plain, 1ull << 40));
  CHECK(properties_to_send(*plain, 5000, scratch) == kContentType);
  plain->release();
}

TEST_CASE("a will loses its Will Delay Interval and keeps its other properties in order") {
  const std::string props = kContentType + u32_property(0x18, 30) + u32_property(0x02, 5);
  PublishedMessage* will = PublishedMessage::create("w", props, "bye", 1, true, 7);
  CHECK(take_will_delay(will) == 30);
  CHECK(will->properties() == kContentType + u32_property(0x02, 5));
  CHECK((will->topic() == "w" && will->payload() == "bye" && will->qos() == 1 && will->retain()));
  CHECK(take_will_delay(will) == 0);  // nothing left to take
  CHECK(will->properties() == kContentType + u32_property(0x02, 5));
  will->release();
}
