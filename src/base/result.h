#pragma once

// result<T, E>: the value of an operation that can fail in an expected way (bad input, a full
// disk, an unknown topic). Bugs are assertions (base/assert.h), never results. E is the error
// type of the subsystem that produced the failure, usually an enum plus a message.

#include <type_traits>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace sluice {

// Wraps an error so that `return failure(e);` converts to any result<T, E>.
template <typename E>
struct failure {
  explicit failure(E e) : error(std::move(e)) {}
  E error;
};

template <typename T, typename E>
class [[nodiscard]] result {
 public:
  result(T value) : _state(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  template <typename U>
  result(failure<U> f) : _state(std::in_place_index<1>, E(std::move(f.error))) {}  // NOLINT

  bool has_value() const { return _state.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    SLUICE_ASSERT(has_value(), "value() of a failed result");
    return std::get<0>(_state);
  }
  const T& value() const& {
    SLUICE_ASSERT(has_value(), "value() of a failed result");
    return std::get<0>(_state);
  }
  T&& value() && {
    SLUICE_ASSERT(has_value(), "value() of a failed result");
    return std::get<0>(std::move(_state));
  }
  const E& error() const {
    SLUICE_ASSERT(!has_value(), "error() of a successful result");
    return std::get<1>(_state);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> _state;
};

// result<void, E>: success carries nothing.
template <typename E>
class [[nodiscard]] result<void, E> {
 public:
  result() = default;
  template <typename U>
  result(failure<U> f) : _error(E(std::move(f.error))), _failed(true) {}  // NOLINT

  bool has_value() const { return !_failed; }
  explicit operator bool() const { return has_value(); }
  const E& error() const {
    SLUICE_ASSERT(_failed, "error() of a successful result");
    return _error;
  }

 private:
  E _error{};
  bool _failed = false;
};

}  // namespace sluice
