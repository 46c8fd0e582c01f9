#include "broker/auth/hash_workers.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include "broker/log.hpp"

namespace shardmq::broker {

HashWorkers::HashWorkers(unsigned threads) {
  for (unsigned i = 0; i < threads; ++i)
    threads_.emplace_back([this, i] {
      set_log_thread_name("hash " + std::to_string(i));
      // Below the shards: a login storm takes the cores the shards leave, not theirs.
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
      run();
    });
}

HashWorkers::~HashWorkers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void HashWorkers::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void HashWorkers::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace shardmq::broker
