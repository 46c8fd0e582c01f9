#include "broker/storage/storage_recovery.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <xxhash.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "broker/log.hpp"
#include "broker/storage/storage_keys.hpp"
#include "broker/storage/storage_records.hpp"

namespace shardmq::broker {

namespace keys = storage_keys;
namespace records = storage_records;

namespace {

struct StoredMessage {
  PublishedMessage* message = nullptr;  // one reference, released at the end
  std::string value;                    // as stored, to copy under a new id
  bool expired = false;
  int home = -1;  // the shard that owns this id once sessions are placed
  bool used = false;
  std::map<unsigned, std::uint64_t> copies;  // other shards' ids for it
};

struct QueuedRef {
  std::string key;
  std::uint64_t seq = 0;
  records::QueueEntry entry;
};

struct SessionData {
  std::optional<records::SessionRecord> record;
  std::vector<std::pair<std::string, SubscriptionOptions>> subscriptions;
  std::vector<QueuedRef> queued;
  std::vector<std::uint16_t> qos2_awaiting_rel;
  PublishedMessage* will = nullptr;  // one reference, passed on to the restored session

  SessionData() = default;
  SessionData(const SessionData&) = delete;
  SessionData& operator=(const SessionData&) = delete;
  ~SessionData() {
    if (will) will->release();
  }
};

unsigned home_of(std::string_view client, unsigned shards) {
  return static_cast<unsigned>(XXH3_64bits(client.data(), client.size()) % shards);
}

}  // namespace

RestoredState recover_state(rocksdb::DB& db, unsigned shards) {
  RestoredState state;
  state.shards.resize(shards);
  std::unordered_map<std::uint64_t, StoredMessage> messages;
  std::map<std::string, SessionData> sessions;  // by client id
  rocksdb::WriteBatch cleanup;
  std::uint64_t max_id = 0;
  std::size_t bad = 0;
  auto drop_bad = [&](const rocksdb::Slice& key) {
    ++bad;
    cleanup.Delete(key);
  };

  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (key.empty()) {
      drop_bad(it->key());
      continue;
    }
    switch (key[0]) {
      case keys::kMessage: {
        auto id = keys::parse_be64(key.substr(1));
        bool expired = false;
        PublishedMessage* m = id ? records::decode_message(value, &expired) : nullptr;
        if (!m) {
          drop_bad(it->key());
          break;
        }
        if (*id > max_id) max_id = *id;
        messages[*id] = StoredMessage{m, std::string(value), expired};
        break;
      }
      case keys::kQueued: {
        auto ck = keys::parse_client_key(key);
        auto seq = ck ? keys::parse_be64(ck->rest) : std::nullopt;
        auto entry = seq ? records::decode_entry(value) : std::nullopt;
        if (!entry) {
          drop_bad(it->key());
          break;
        }
        sessions[std::string(ck->client)].queued.push_back(
            QueuedRef{std::string(key), *seq, *entry});
        break;
      }
      case keys::kInbound: {
        auto ck = keys::parse_client_key(key);
        auto id = ck ? keys::parse_be16(ck->rest) : std::nullopt;
        if (!id || *id == 0) {
          drop_bad(it->key());
          break;
        }
        sessions[std::string(ck->client)].qos2_awaiting_rel.push_back(*id);
        break;
      }
      case keys::kRetained: {
        bool expired = false;
        PublishedMessage* m = records::decode_message(value, &expired);
        if (!m) {
          drop_bad(it->key());
          break;
        }
        if (expired || m->payload().empty()) {
          m->release();
          cleanup.Delete(it->key());
          break;
        }
        state.retained.push_back(m);
        break;
      }
      case keys::kSession: {
        auto r = records::decode_session(value);
        if (!r) {
          drop_bad(it->key());
          break;
        }
        sessions[std::string(key.substr(1))].record = std::move(*r);
        break;
      }
      case keys::kSubscription: {
        auto ck = keys::parse_client_key(key);
        auto o = ck ? records::decode_options(value) : std::nullopt;
        if (!o || ck->rest.empty()) {
          drop_bad(it->key());
          break;
        }
        sessions[std::string(ck->client)].subscriptions.emplace_back(std::string(ck->rest), *o);
        break;
      }
      case keys::kWill: {
        bool expired = false;
        PublishedMessage* m = records::decode_message(value, &expired);
        if (!m) {
          drop_bad(it->key());
          break;
        }
        PublishedMessage*& will = sessions[std::string(key.substr(1))].will;
        if (will) will->release();
        will = m;
        break;
      }
      default:
        drop_bad(it->key());
    }
  }
  if (!it->status().ok()) {
    state.read_error = it->status().ToString();
    return state;
  }

  std::uint64_t next_id = max_id + 1;
  for (auto& [client, data] : sessions) {
    if (!data.record) {  // left over from a session that ended: its keys go
      cleanup.DeleteRange(keys::queued_prefix(client),
                          keys::prefix_end(keys::queued_prefix(client)));
      cleanup.DeleteRange(keys::subscription_prefix(client),
                          keys::prefix_end(keys::subscription_prefix(client)));
      cleanup.DeleteRange(keys::inbound_prefix(client),
                          keys::prefix_end(keys::inbound_prefix(client)));
      if (data.will) cleanup.Delete(keys::will(client));
      continue;
    }
    const unsigned home = home_of(client, shards);
    RestoredSession r;
    r.client_id = client;
    r.username = data.record->username;
    r.expiry_s = data.record->expiry_s;
    r.subscriptions = std::move(data.subscriptions);
    r.qos2_awaiting_rel = std::move(data.qos2_awaiting_rel);
    r.will = std::exchange(data.will, nullptr);
    for (QueuedRef& q : data.queued) {
      auto m = messages.find(q.entry.message_id);
      if (m == messages.end() || (m->second.expired && !q.entry.released)) {
        cleanup.Delete(q.key);
        continue;
      }
      StoredMessage& sm = m->second;
      std::uint64_t id = q.entry.message_id;
      if (sm.home < 0) {
        sm.home = static_cast<int>(home);
      } else if (sm.home != static_cast<int>(home)) {
        // Another shard owns this id now: this shard gets its own copy.
        auto [copy, added] = sm.copies.try_emplace(home, next_id);
        if (added) {
          ++next_id;
          cleanup.Put(keys::message(copy->second), sm.value);
        }
        id = copy->second;
        records::QueueEntry moved = q.entry;
        moved.message_id = id;
        cleanup.Put(q.key, records::encode_entry(moved));
      }
      sm.used = true;
      sm.message->add_ref();
      r.messages.push_back(RestoredEntry{sm.message, id, q.seq, q.entry.qos, q.entry.packet_id,
                                         q.entry.released, q.entry.retain,
                                         q.entry.subscription_id});
      ++state.messages;
    }
    state.shards[home].sessions.push_back(std::move(r));
  }
  for (auto& [id, sm] : messages) {
    if (!sm.used) cleanup.Delete(keys::message(id));
    sm.message->release();
  }
  if (bad) log_warn("storage: {} records that do not parse were removed", bad);
  if (cleanup.Count()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (auto s = db.Write(wo, &cleanup); !s.ok())
      log_error("storage: removing stale records: {}", s.ToString());
  }
  state.next_message_id = next_id;
  return state;
}

}  // namespace shardmq::broker
