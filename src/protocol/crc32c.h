#pragma once

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of record batch v2. The
// SSE4.2 `crc32` instruction computes it when the CPU has one (checked once at run time);
// otherwise a table-driven slicing-by-8 loop does. Both give identical results.

#include <cstdint>
#include <span>

namespace sluice::protocol {

// Extends a running checksum: crc32c(b, crc32c(a)) == crc32c(a followed by b), and
// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);

// The portable implementation, whatever the CPU. For tests and benchmarks.
uint32_t crc32c_portable(std::span<const uint8_t> data, uint32_t crc = 0);

// Whether crc32c_hardware runs the SSE4.2 instruction on this machine.
bool crc32c_hardware_available();

// The SSE4.2 implementation. Call only when crc32c_hardware_available(); for tests and benchmarks.
uint32_t crc32c_hardware(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace sluice::protocol
