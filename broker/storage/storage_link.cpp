#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

std::unique_ptr<StorageLink> make_storage(const Config&) {
  return std::make_unique<StorageLink>();
}

}  // namespace shardmq::broker
