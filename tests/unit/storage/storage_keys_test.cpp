// Keys and records of the store: one client's keys form a range no other client's key falls
// in, and every record reads back as written.
#include <catch2/catch.hpp>

#include "broker/storage/storage_keys.hpp"
#include "broker/storage/storage_records.hpp"

using namespace shardmq::broker;
namespace keys = storage_keys;
namespace records = storage_records;

TEST_CASE("storage keys: a client's range holds only its own keys", "[storage][keys]") {
  const std::string a = keys::subscription_prefix("a");
  const std::string a_end = keys::prefix_end(a);
  // "a/b" starts with "a" but is another client: its keys sort outside a's range.
  const std::string other = keys::subscription("a/b", "x");
  CHECK(!(other >= a && other < a_end));
  const std::string mine = keys::subscription("a", "b/x");
  CHECK((mine >= a && mine < a_end));
  auto ck = keys::parse_client_key(mine);
  REQUIRE(ck);
  CHECK(ck->client == "a");
  CHECK(ck->rest == "b/x");

  // Queue entries sort by sequence number.
  CHECK(keys::queued("c", 2) < keys::queued("c", 10));
  const std::string qk = keys::queued("c", 258);  // parse_client_key returns views into it
  auto q = keys::parse_client_key(qk);
  REQUIRE(q);
  CHECK(keys::parse_be64(q->rest) == 258u);
  CHECK(keys::prefix_end(std::string("a\xff")) == "b");

  const std::string ik = keys::inbound("c", 0x1234);
  auto i = keys::parse_client_key(ik);
  REQUIRE(i);
  CHECK(i->client == "c");
  CHECK(keys::parse_be16(i->rest) == 0x1234);
  CHECK(ik.starts_with(keys::inbound_prefix("c")));
  CHECK(!keys::parse_be16("abc"));
}

TEST_CASE("storage records: read back as written; damaged ones are refused", "[storage][records]") {
  PublishedMessage* m = PublishedMessage::create("t/1", "", "payload", 2, true, 7);
  bool expired = true;
  std::string v = records::encode_message(*m);
  PublishedMessage* back = records::decode_message(v, &expired);
  REQUIRE(back);
  CHECK(!expired);
  CHECK(back->topic() == "t/1");
  CHECK(back->payload() == "payload");
  CHECK(back->qos() == 2);
  CHECK(back->retain());
  back->release();
  CHECK(records::decode_message(v.substr(0, v.size() - 1), &expired) == nullptr);
  m->release();

  records::QueueEntry e{42, 2, 9, true, true, 77};
  const std::string ev = records::encode_entry(e);
  auto e2 = records::decode_entry(ev);
  REQUIRE(e2);
  CHECK(e2->message_id == 42);
  CHECK(e2->packet_id == 9);
  CHECK(e2->released);
  CHECK(e2->retain);
  CHECK(e2->subscription_id == 77);
  // An entry as written before the retain flag and subscription identifier: read without them.
  auto old = records::decode_entry(ev.substr(0, 12));
  REQUIRE(old);
  CHECK(old->packet_id == 9);
  CHECK(!old->retain);
  CHECK(old->subscription_id == 0);
  CHECK(!records::decode_entry(ev.substr(0, 14)));  // cut in the middle: refused

  records::SessionRecord s{3600, std::string("user")};
  auto s2 = records::decode_session(records::encode_session(s));
  REQUIRE(s2);
  CHECK(s2->expiry_s == 3600);
  CHECK(s2->username == "user");

  SubscriptionOptions o{1, true, false, 12};
  auto o2 = records::decode_options(records::encode_options(o));
  REQUIRE(o2);
  CHECK(o2->max_qos == 1);
  CHECK(o2->no_local);
  CHECK(o2->identifier == 12);
}
