// store_fill: writes a full shardmq store (RocksDB) directly, to measure how long the broker
// takes to start on it (scripts/bench, "Start-up with a full store" in docs/benchmarks.md).
// Every key and value comes from the broker's own encoders (broker/storage/storage_keys.hpp,
// storage_records.hpp), so the store is laid out as the broker writes it:
//   --retained N   retained messages, topics "fill/retained/<i>" (QoS 1)
//   --sessions N   persistent MQTT 3.1.1 sessions (never expire), client ids "fill-<i>", each
//                  with one subscription (QoS 1) to its own topic "fill/session/<i>"
//   --queued N     queued (not in flight) QoS 1 messages per session, on that topic; each
//                  entry has a message record of its own (distinct payloads: the worst case),
//                  or with --shared-messages the N messages are stored once and every session
//                  refers to them (as when one publish reaches every offline session)
//   --payload B    payload bytes of every message (pseudo-random, so they do not compress)
// The writes go in WriteBatches without the WAL, and the memtables are flushed at the end, as
// in a store a broker has run on for a while. Prints one JSON line with the counts and time.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "broker/message/published_message.hpp"
#include "broker/session/subscription.hpp"
#include "broker/storage/storage_keys.hpp"
#include "broker/storage/storage_records.hpp"

namespace {

namespace keys = shardmq::broker::storage_keys;
namespace records = shardmq::broker::storage_records;
using shardmq::broker::PublishedMessage;

struct Options {
  std::string path;
  std::uint64_t retained = 1'000'000;
  std::uint64_t sessions = 100'000;
  std::uint64_t queued = 10;
  std::uint32_t payload = 64;
  bool shared_messages = false;
  std::uint64_t batch = 10'000;  // records per WriteBatch
};

// A payload that does not compress: xorshift64 bytes, different for each message.
std::string payload_for(std::uint64_t n, std::uint32_t size) {
  std::string p(size, '\0');
  std::uint64_t x = n * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : p) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xFF);
  }
  return p;
}

std::string message_value(const std::string& topic, std::uint64_t n, std::uint32_t size,
                          bool retain) {
  PublishedMessage* m = PublishedMessage::create(topic, {}, payload_for(n, size), 1, retain, 0);
  std::string v = records::encode_message(*m);
  m->release();
  return v;
}

class Writer {
 public:
  Writer(rocksdb::DB& db, std::uint64_t per_batch) : db_(db), per_batch_(per_batch) {
    options_.disableWAL = true;
  }
  bool put(const std::string& key, const std::string& value) {
    batch_.Put(key, value);
    ++records_;
    return batch_.Count() < per_batch_ || flush();
  }
  bool flush() {
    if (!batch_.Count()) return true;
    rocksdb::Status s = db_.Write(options_, &batch_);
    batch_.Clear();
    if (!s.ok()) std::fprintf(stderr, "store_fill: write: %s\n", s.ToString().c_str());
    return s.ok();
  }
  std::uint64_t records() const { return records_; }

 private:
  rocksdb::DB& db_;
  const std::uint64_t per_batch_;
  rocksdb::WriteOptions options_;
  rocksdb::WriteBatch batch_;
  std::uint64_t records_ = 0;
};

bool fill(rocksdb::DB& db, const Options& o, std::uint64_t* message_records) {
  Writer w(db, o.batch);
  for (std::uint64_t i = 0; i < o.retained; ++i) {
    const std::string topic = "fill/retained/" + std::to_string(i);
    if (!w.put(keys::retained(topic), message_value(topic, i, o.payload, true))) return false;
  }
  std::uint64_t next_id = 1;
  if (o.shared_messages)
    for (std::uint64_t j = 0; j < o.queued; ++j)
      if (!w.put(keys::message(next_id++),
                 message_value("fill/shared", o.retained + j, o.payload, false)))
        return false;
  records::SessionRecord session;
  session.expiry_s = 0xFFFFFFFFu;  // MQTT 3.1.1, clean session 0: kept until a clean one
  shardmq::broker::SubscriptionOptions sub;
  sub.max_qos = 1;
  const std::string sub_value = records::encode_options(sub);
  const std::string session_value = records::encode_session(session);
  for (std::uint64_t i = 0; i < o.sessions; ++i) {
    const std::string client = "fill-" + std::to_string(i);
    const std::string topic = "fill/session/" + std::to_string(i);
    if (!w.put(keys::session(client), session_value)) return false;
    if (!w.put(keys::subscription(client, topic), sub_value)) return false;
    for (std::uint64_t j = 0; j < o.queued; ++j) {
      records::QueueEntry e;
      e.qos = 1;
      if (o.shared_messages) {
        e.message_id = 1 + j;
      } else {
        e.message_id = next_id++;
        const std::uint64_t n = o.retained + o.queued + i * o.queued + j;
        if (!w.put(keys::message(e.message_id), message_value(topic, n, o.payload, false)))
          return false;
      }
      if (!w.put(keys::queued(client, 1 + j), records::encode_entry(e))) return false;
    }
  }
  *message_records = next_id - 1;
  return w.flush();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Writes a full shardmq store (RocksDB) for start-up measurements"};
  app.add_option("--path", o.path, "The store's directory (must not exist yet)")->required();
  app.add_option("--retained", o.retained, "Retained messages");
  app.add_option("--sessions", o.sessions, "Persistent sessions, one subscription each");
  app.add_option("--queued", o.queued, "Queued QoS 1 messages per session");
  app.add_option("--payload", o.payload, "Payload bytes per message")
      ->check(CLI::Range(0, 1 << 24));
  app.add_flag("--shared-messages", o.shared_messages,
               "Store the --queued messages once, referred to by every session");
  app.add_option("--batch", o.batch, "Records per WriteBatch")->check(CLI::Range(1, 1 << 24));
  CLI11_PARSE(app, argc, argv);

  const auto began = std::chrono::steady_clock::now();
  rocksdb::Options options;  // as StorageService::open, which the broker starts with
  options.create_if_missing = true;
  options.error_if_exists = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, o.path, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "store_fill: cannot open '%s': %s\n", o.path.c_str(),
                 s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::uint64_t message_records = 0;
  if (!fill(*db, o, &message_records)) return 1;
  if (s = db->Flush(rocksdb::FlushOptions()); !s.ok()) {
    std::fprintf(stderr, "store_fill: flush: %s\n", s.ToString().c_str());
    return 1;
  }
  if (s = db->Close(); !s.ok()) {
    std::fprintf(stderr, "store_fill: close: %s\n", s.ToString().c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf(
      "{\"retained\": %llu, \"sessions\": %llu, \"queued_per_session\": %llu, "
      "\"message_records\": %llu, \"payload\": %u, \"shared_messages\": %s, \"seconds\": %.2f}\n",
      static_cast<unsigned long long>(o.retained), static_cast<unsigned long long>(o.sessions),
      static_cast<unsigned long long>(o.queued), static_cast<unsigned long long>(message_records),
      o.payload, o.shared_messages ? "true" : "false", seconds);
  return 0;
}
