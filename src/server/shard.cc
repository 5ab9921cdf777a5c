#include "server/shard.h"

#include <pthread.h>

#include <string>

#include "base/assert.h"
#include "base/logging.h"

namespace sluice::server {

shard_set::shard_set(unsigned count) {
  SLUICE_ASSERT(count > 0, "shard count {}", count);
  for (unsigned i = 0; i < count; ++i) {
    auto s = std::make_unique<shard>();
    // concurrency hint 1: each context is only ever run by its own thread.
    s->io = std::make_unique<asio::io_context>(1);
    s->work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        s->io->get_executor());
    _shards.push_back(std::move(s));
  }
}

shard_set::~shard_set() {
  stop();
}

void shard_set::start() {
  for (unsigned i = 0; i < _shards.size(); ++i) {
    auto* s = _shards[i].get();
    s->thread = std::thread([s, i] {
      std::string name = "shard-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      s->io->run();
    });
  }
}

void shard_set::stop() {
  for (auto& s : _shards) {
    s->work.reset();
    s->io->stop();
  }
  for (auto& s : _shards)
    if (s->thread.joinable()) s->thread.join();
}

}  // namespace sluice::server
