// A few threads that verify password hashes, so a slow hash (argon2id takes milliseconds,
// PBKDF2 with many rounds as long) never runs on a shard's loop. Jobs run in submission order
// per worker; each job posts its own answer back to the shard that asked (see
// password_authenticator.cpp). Shared by every shard; the queue is the only lock, taken once
// per CONNECT that carries a password.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace shardmq::broker {

class HashWorkers {
 public:
  explicit HashWorkers(unsigned threads);
  ~HashWorkers();  // lets running jobs finish, drops queued ones, joins
  HashWorkers(const HashWorkers&) = delete;
  HashWorkers& operator=(const HashWorkers&) = delete;

  void submit(std::function<void()> job);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace shardmq::broker
