// What a connected client may do: publish to a topic, subscribe to a filter, and receive a
// message on a topic (asked per delivery, so a wildcard subscriber gets only the topics it
// may read; also for retained messages sent on subscribe). Asked on the shard's thread and
// answered at once: an implementation compiles its rules ahead (a trie per user) and may
// cache decisions per shard.
#pragma once

#include <optional>
#include <string_view>

namespace shardmq::broker {

// The client a decision is about.
struct ClientIdentity {
  std::string_view client_id;
  std::optional<std::string_view> username;  // nullopt: anonymous
};

class Authoriser {
 public:
  virtual ~Authoriser() = default;
  // False when every answer is yes: the broker then skips the calls altogether, so the
  // message path pays no virtual call when no ACL is configured.
  virtual bool restricts() const = 0;
  virtual bool may_publish(const ClientIdentity& who, std::string_view topic) = 0;
  virtual bool may_subscribe(const ClientIdentity& who, std::string_view filter) = 0;
  virtual bool may_receive(const ClientIdentity& who, std::string_view topic) = 0;
};

// The default until an ACL file is configured: everything is allowed.
class AllowAllAuthoriser final : public Authoriser {
 public:
  bool restricts() const override { return false; }
  bool may_publish(const ClientIdentity&, std::string_view) override { return true; }
  bool may_subscribe(const ClientIdentity&, std::string_view) override { return true; }
  bool may_receive(const ClientIdentity&, std::string_view) override { return true; }
};

}  // namespace shardmq::broker
