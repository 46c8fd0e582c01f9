// An MQTT 5 will as CONNECT carries it: Will Properties that are PUBLISH properties (payload
// format, message expiry, content type, response topic, correlation data, user properties),
// plus the Will Delay Interval, which is not (specification 3.1.3.2). The will is kept as
// received; when it is due, take_will_delay() reads the delay and leaves a message fit to
// publish.
#pragma once

#include <cstdint>
#include <string>

#include "broker/message/published_message.hpp"
#include "core/properties.hpp"

namespace shardmq::broker {

// The Will Delay Interval of `will` (0 when it has none); `will` is then a copy without that
// property, the reference to the original released.
inline std::uint32_t take_will_delay(PublishedMessage*& will) {
  const std::string_view props = will->properties();
  if (props.empty()) return 0;
  std::uint32_t delay = 0;
  bool found = false;
  std::string kept;
  core::for_each_property(core::as_bytes(props), [&](core::PropertyId id, core::Bytes whole) {
    if (id == core::PropertyId::WillDelayInterval) {
      found = true;
      delay = core::four_byte_property_value(whole);
    } else {
      kept.append(core::as_string_view(whole));
    }
  });
  if (!found) return 0;
  PublishedMessage* copy = PublishedMessage::create(
      will->topic(), kept, will->payload(), will->qos(), will->retain(), will->origin_session());
  if (copy) {
    will->release();
    will = copy;
  }
  return delay;
}

}  // namespace shardmq::broker
