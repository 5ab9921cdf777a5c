#pragma once

// image_publisher: the one place the current metadata image lives. Every shard calls current()
// and keeps the returned pointer for as long as it needs a consistent view (one request, say);
// the controller calls publish() after the records behind the new image are durable. Readers
// never block the controller and never see a half-applied change.
//
// Thread-safe: std::atomic<std::shared_ptr> (C++20). Readers pay an atomic reference-count
// increment on a shared cache line; if that shows up in profiles, shards can cache the pointer
// and compare offsets instead.

#include <atomic>
#include <memory>

#include "base/assert.h"
#include "cluster/image.h"

namespace sluice::cluster {

class image_publisher {
 public:
  image_publisher() : _current(std::make_shared<const image>()) {}

  std::shared_ptr<const image> current() const { return _current.load(std::memory_order_acquire); }

  // Replaces the current image. Images only move forward: a publish of an older image is a bug.
  void publish(std::shared_ptr<const image> next) {
    SLUICE_ASSERT(next != nullptr, "publish of a null image");
    auto before = current();
    SLUICE_ASSERT(next->offset() >= before->offset(), "image offset goes back from {} to {}",
                  before->offset().value(), next->offset().value());
    _current.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const image>> _current;
};

}  // namespace sluice::cluster
