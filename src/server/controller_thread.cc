#include "server/controller_thread.h"

#include <pthread.h>

namespace sluice::server {

controller_thread::controller_thread()
    : _work(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
          _io.get_executor())) {}

controller_thread::~controller_thread() {
  stop();
}

void controller_thread::start() {
  _thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "controller");
    _io.run();
  });
}

void controller_thread::stop() {
  _work.reset();
  if (_thread.joinable()) _thread.join();
  _io.stop();
}

}  // namespace sluice::server
