// A client's MQTT 5 Topic Aliases (§3.3.2.3.4): a PUBLISH with a topic and an alias sets
// the alias, one with an empty topic uses it. The alias is the connection's own business:
// subscribers get the topic and the other properties, never the publisher's alias.
#include <fmt/format.h>

#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"

namespace shardmq::broker {

bool ClientProtocol::resolve_topic_alias(Connection& c, const core::Publish& p,
                                         std::string_view& topic, std::string_view& properties) {
  const std::uint16_t alias = *p.properties.topic_alias;  // never 0: the decoder refuses it
  if (alias > config_.max_topic_aliases) {
    protocol_error(
        c, core::ReasonCode::TopicAliasInvalid,
        fmt::format("topic alias {} over the maximum of {}", alias, config_.max_topic_aliases));
    return false;
  }
  InboundAliases& aliases = c.topic_aliases().in;
  if (p.topic.empty()) {
    const std::string* known = aliases.find(alias);
    if (!known) {
      protocol_error(c, core::ReasonCode::ProtocolError,
                     fmt::format("topic alias {} used before it was set", alias));
      return false;
    }
    topic = *known;
  } else {
    aliases.set(alias, p.topic);
  }
  core::copy_properties_without(p.properties.raw, core::PropertyId::TopicAlias, alias_properties_);
  properties = alias_properties_;
  return true;
}

}  // namespace shardmq::broker
