#pragma once

// named_type<T, Tag>: a distinct type around an integer id or offset, so that passing an offset
// where a leader epoch belongs does not compile.

#include <compare>
#include <cstddef>
#include <functional>

namespace sluice {

template <typename T, typename Tag>
class named_type {
 public:
  using value_type = T;
  constexpr named_type() = default;
  constexpr explicit named_type(T v) : _value(v) {}
  constexpr T value() const { return _value; }
  constexpr T operator()() const { return _value; }
  constexpr auto operator<=>(const named_type&) const = default;

  constexpr named_type& operator++() {
    ++_value;
    return *this;
  }
  constexpr named_type operator+(T delta) const { return named_type(_value + delta); }
  constexpr named_type operator-(T delta) const { return named_type(_value - delta); }
  constexpr T operator-(named_type other) const { return _value - other._value; }

 private:
  T _value{};
};

}  // namespace sluice

template <typename T, typename Tag>
struct std::hash<sluice::named_type<T, Tag>> {
  std::size_t operator()(const sluice::named_type<T, Tag>& v) const noexcept {
    return std::hash<T>{}(v.value());
  }
};
