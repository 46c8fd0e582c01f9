// What the session store tells the protocol above it when a delayed will falls due (MQTT 5
// Will Delay Interval): the protocol checks it against the ACL and routes it, as it does a will
// published when its connection ends. Called once per will, so a virtual call costs nothing
// that matters.
#pragma once

namespace shardmq::broker {

class ClientName;
class PublishedMessage;

class WillPublisher {
 public:
  virtual ~WillPublisher() = default;
  // Takes the reference `will` holds; `who` is the session's client (and user) name.
  virtual void publish_will(const ClientName& who, PublishedMessage* will) = 0;
};

}  // namespace shardmq::broker
