// The RocksDB sink and its writer against a real database in a temporary directory: what one
// turn's batch writes, a message queued for two sessions stored once and deleted with its last
// entry, and a recovery round trip (sessions, subscriptions, queued and in-flight messages,
// inbound QoS 2 ids, retained messages, the home shard of each session).
#include <rocksdb/db.h>
#include <xxhash.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "broker/storage/rocksdb_sink.hpp"
#include "broker/storage/storage_service.hpp"

using namespace shardmq::broker;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/shardmq-storage-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

Config storage_config(const std::string& path) {
  Config c = Config::defaults();
  c.durability = Config::Durability::sync;
  c.storage_path = path;
  return c;
}

// One service and shard 0's sink, started as the broker starts them.
struct Store {
  Store(const std::string& path, unsigned shards = 1) {
    auto s = StorageService::open(storage_config(path), shards);
    REQUIRE(s);
    service = std::move(*s);
    restored = service->take_restored();
    service->start();
    sink = std::make_unique<RocksdbSink>(*service, 0, [this] { ++wakes; });
  }
  // Ends the turn and waits for the writer to make it durable.
  void commit(std::uint64_t through) {
    sink->end_turn();
    for (int i = 0; i < 500 && sink->durable_through() < through; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(sink->durable_through() >= through);
  }
  std::unique_ptr<StorageService> service;
  RestoredState restored;
  std::unique_ptr<RocksdbSink> sink;
  std::atomic<int> wakes{0};
};

// Every key in the database, counted by kind (the first byte).
std::map<char, int> key_kinds(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  REQUIRE(rocksdb::DB::OpenForReadOnly(o, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<char, int> kinds;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    ++kinds[it->key()[0]];
  return kinds;
}

}  // namespace

TEST_CASE("storage sink: one batch per turn, durable once the writer has synced it",
          "[storage][sink]") {
  TempDir dir;
  {
    Store st(dir.path);
    st.sink->session_opened("a", std::nullopt, 60);
    st.sink->subscription_added("a", "t/#", SubscriptionOptions{1, false, false, 0});
    CHECK(st.sink->durable_through() == 0);  // not yet handed over
    st.commit(2);
    CHECK(st.wakes > 0);
    CHECK(st.service->syncs() >= 1);
    // A clean session writes nothing; its calls are durable at the next turn's end.
    st.sink->session_opened("clean", std::nullopt, 0);
    st.sink->subscription_added("clean", "x", SubscriptionOptions{});
    st.commit(4);
  }
  auto kinds = key_kinds(dir.path);
  CHECK(kinds['s'] == 1);
  CHECK(kinds['u'] == 1);
}

TEST_CASE("storage sink: batched acknowledges at once, until the writer's backlog is too big",
          "[storage][sink]") {
  TempDir dir;
  Config c = storage_config(dir.path);
  c.durability = Config::Durability::batched;
  auto opened = StorageService::open(c, 1);
  REQUIRE(opened);
  std::unique_ptr<StorageService> service = std::move(*opened);
  RocksdbSink sink(*service, 0, [] {});
  // The writer has not started: what the sink hands over stays in its backlog.
  sink.session_opened("small", std::nullopt, 60);
  sink.end_turn();
  CHECK(sink.durable_through() == 1);  // batched: durable as far as the acknowledgement goes
  const std::string big(StorageService::kBacklogLimitBytes + 1, 'x');
  PublishedMessage* m = PublishedMessage::create("t", "", big, 1, false, 0);
  sink.session_opened("big", std::nullopt, 60);
  sink.message_added("big", *m, 1, 0, false, 0);
  sink.end_turn();
  CHECK(service->backlogged(0));
  CHECK(sink.durable_through() < 3);  // the publisher's PUBACK waits for the writer now
  service->start();
  for (int i = 0; i < 1000 && sink.durable_through() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(sink.durable_through() == 3);
  CHECK_FALSE(service->backlogged(0));
  m->release();
}

TEST_CASE("storage sink: a message queued for two sessions is stored once, deleted with the last",
          "[storage][sink]") {
  TempDir dir;
  PublishedMessage* m = PublishedMessage::create("t/1", "", "hello", 1, false, 0);
  {
    Store st(dir.path);
    st.sink->session_opened("a", std::nullopt, 60);
    st.sink->session_opened("b", std::nullopt, 60);
    st.sink->message_added("a", *m, 1, 0, false, 0);
    st.sink->message_added("b", *m, 1, 0, false, 0);
    st.commit(4);
  }
  auto kinds = key_kinds(dir.path);
  CHECK(kinds['m'] == 1);
  CHECK(kinds['q'] == 2);
  {
    Store st(dir.path);  // restored: both entries, one message
    REQUIRE(st.restored.shards.size() == 1);
    REQUIRE(st.restored.shards[0].sessions.size() == 2);
    st.sink->adopt(st.restored.shards[0]);
    PublishedMessage* back = st.restored.shards[0].sessions[0].messages.at(0).message;
    CHECK(back == st.restored.shards[0].sessions[1].messages.at(0).message);
    // a: sent (packet id 5) and acknowledged; b: sent and acknowledged.
    st.sink->message_added("a", *back, 1, 5, false, 0);
    st.sink->message_done("a", 5);
    st.commit(2);
    auto mid = key_kinds(dir.path + "");  // read-only opens beside the writer are allowed
    CHECK(mid['m'] == 1);
    CHECK(mid['q'] == 1);
    st.sink->message_added("b", *back, 1, 9, false, 0);
    st.sink->message_done("b", 9);
    st.commit(4);
  }
  kinds = key_kinds(dir.path);
  CHECK(kinds['m'] == 0);
  CHECK(kinds['q'] == 0);
  CHECK(kinds['s'] == 2);
  m->release();
}

TEST_CASE("storage: recovery round trip, sessions to their home shard", "[storage][recovery]") {
  TempDir dir;
  PublishedMessage* q1 = PublishedMessage::create("t/q1", "", "one", 1, false, 0);
  PublishedMessage* q2 = PublishedMessage::create("t/q2", "", "two", 2, false, 0);
  PublishedMessage* r = PublishedMessage::create("r/x", "", "kept", 0, true, 0);
  PublishedMessage* cleared = PublishedMessage::create("r/y", "", "", 0, true, 0);
  PublishedMessage* was = PublishedMessage::create("r/y", "", "old", 0, true, 0);
  PublishedMessage* will = PublishedMessage::create("dev/1/status", "", "offline", 1, true, 0);
  {
    Store st(dir.path);
    st.sink->session_opened("dev/1", std::string_view("alice"), 3600);
    st.sink->subscription_added("dev/1", "t/#", SubscriptionOptions{2, true, false, 3});
    st.sink->message_added("dev/1", *q1, 1, 0, false, 0);
    st.sink->message_added("dev/1", *q1, 1, 4, false, 0);  // q1 left the queue: in flight as 4
    st.sink->message_added("dev/1", *q2, 2, 0, true, 3);
    st.sink->message_added("dev/1", *q2, 2, 5, true, 3);  // and q2 after it, as 5
    st.sink->message_released("dev/1", 5);
    st.sink->inbound_qos2_received("dev/1", 7);  // the client's own QoS 2 publishes
    st.sink->inbound_qos2_received("dev/1", 8);
    st.sink->inbound_qos2_released("dev/1", 7);
    st.sink->will_changed("dev/1", will);
    st.sink->session_opened("gone", std::nullopt, 60);
    st.sink->subscription_added("gone", "g", SubscriptionOptions{});
    st.sink->inbound_qos2_received("gone", 1);
    st.sink->will_changed("gone", will);
    st.sink->session_ended("gone");
    st.sink->retained_changed(*r);
    st.sink->retained_changed(*was);
    st.sink->retained_changed(*cleared);
    st.commit(19);
    auto kinds = key_kinds(dir.path);
    CHECK(kinds['i'] == 1);  // only dev/1's 8: the ended session's went with it
    CHECK(kinds['w'] == 1);
  }
  {
    Store st(dir.path, 3);  // three shards now: the session goes to its home
    const unsigned home = static_cast<unsigned>(XXH3_64bits("dev/1", 5) % 3);
    REQUIRE(st.restored.retained.size() == 1);
    CHECK(st.restored.retained[0]->payload() == "kept");
    std::size_t total = 0;
    for (unsigned i = 0; i < 3; ++i)
      total += st.restored.shards[i].sessions.size();
    REQUIRE(total == 1);
    REQUIRE(st.restored.shards[home].sessions.size() == 1);
    const RestoredSession& s = st.restored.shards[home].sessions[0];
    CHECK(s.client_id == "dev/1");
    CHECK(s.username == "alice");
    CHECK(s.expiry_s == 3600);
    REQUIRE(s.subscriptions.size() == 1);
    CHECK(s.subscriptions[0].first == "t/#");
    CHECK(s.subscriptions[0].second.max_qos == 2);
    CHECK(s.subscriptions[0].second.no_local);
    CHECK(s.subscriptions[0].second.identifier == 3);
    REQUIRE(s.messages.size() == 2);
    CHECK(s.messages[0].message->payload() == "one");
    CHECK(s.messages[0].packet_id == 4);
    CHECK(!s.messages[0].released);
    CHECK(s.messages[1].message->payload() == "two");
    CHECK(s.messages[1].packet_id == 5);
    CHECK(s.messages[1].released);
    CHECK(s.messages[1].retain);
    CHECK(s.messages[1].subscription_id == 3);
    CHECK(!s.messages[0].retain);
    CHECK(st.restored.next_message_id > s.messages[1].message_id);
    CHECK(s.qos2_awaiting_rel == std::vector<std::uint16_t>{8});
    REQUIRE(s.will);
    CHECK(s.will->topic() == "dev/1/status");
    CHECK(s.will->payload() == "offline");
    CHECK(s.will->retain());
  }
  for (PublishedMessage* p : {q1, q2, r, cleared, was, will})
    p->release();
}
