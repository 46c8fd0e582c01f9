#include "broker/storage/storage_link.hpp"

#include "broker/storage/rocksdb_sink.hpp"
#include "broker/storage/storage_service.hpp"

namespace shardmq::broker {

std::unique_ptr<StorageLink> make_storage(StorageService* service, unsigned shard,
                                          std::function<void()> wake) {
  if (!service) return std::make_unique<StorageLink>();
  return std::make_unique<StorageLink>(
      std::make_unique<RocksdbSink>(*service, shard, std::move(wake)),
      PeerDurability(service->shards(), service->durability() == Config::Durability::sync));
}

}  // namespace shardmq::broker
