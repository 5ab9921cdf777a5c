#include "model/model.h"

#include <cstring>
#include <random>

namespace sluice::model {

namespace {
constexpr char base64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64_value(char c) {
  const char* p = std::strchr(base64_url, c);
  return (c != '\0' && p != nullptr) ? static_cast<int>(p - base64_url) : -1;
}
}  // namespace

bool uuid::is_zero() const {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string uuid::to_base64() const {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (auto b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += base64_url[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += base64_url[(acc << (6 - bits)) & 0x3F];
  return out;
}

bool uuid::from_base64(const std::string& text, uuid& out) {
  if (text.size() != 22) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = base64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16) out.bytes[n++] = static_cast<uint8_t>((acc >> bits) & 0xFF);
    }
  }
  return n == 16;
}

uuid uuid::random() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uuid u;
  for (;;) {
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t r = rng();
      std::memcpy(u.bytes.data() + i, &r, 8);
    }
    // Version 4, variant 1, as Java's UUID.randomUUID(); never the zero or the reserved one id.
    u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0F) | 0x40);
    u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3F) | 0x80);
    if (!u.is_zero()) return u;
  }
}

}  // namespace sluice::model

std::size_t std::hash<sluice::model::uuid>::operator()(
    const sluice::model::uuid& u) const noexcept {
  uint64_t a = 0;
  uint64_t b = 0;
  std::memcpy(&a, u.bytes.data(), 8);
  std::memcpy(&b, u.bytes.data() + 8, 8);
  return std::hash<uint64_t>{}(a ^ (b * 0x9E3779B97F4A7C15ULL));
}
