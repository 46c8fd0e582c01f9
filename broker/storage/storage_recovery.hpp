// Start-up: the store read back into what each shard restores (restored_state.hpp).
#pragma once

#include "broker/storage/restored_state.hpp"

namespace rocksdb {
class DB;
}

namespace shardmq::broker {

// Reads every key once, in order. Sessions go to their home shard for `shards` shards; a
// message whose sessions now live on more than one shard (the shard count changed) is copied
// under a new id for each extra shard, so each shard owns the message keys it writes.
// Deleted on the way: queue entries without their session or message, messages no entry
// refers to, retained messages and queued messages whose Message Expiry passed, records that
// do not parse (each logged). A store that cannot be read to the end (RocksDB reports
// corruption or an I/O error on the way) sets read_error and changes nothing on disk.
RestoredState recover_state(rocksdb::DB& db, unsigned shards);

}  // namespace shardmq::broker
