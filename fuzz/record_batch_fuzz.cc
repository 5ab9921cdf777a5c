// libFuzzer target: record-batch parsing as produce validation does it. Any input must yield a
// batch_error or a batch whose records all parse; never a crash, a hang or an allocation sized by
// the input.

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/compression.h"
#include "protocol/record_batch.h"

namespace {
// A small bound keeps decompression bombs cheap for the fuzzer; the broker's bound is larger.
constexpr size_t decompressed_bytes_max = size_t{1} << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::protocol;
  std::span<const uint8_t> input(data, size);
  auto header = read_batch_header(input);
  auto validated = validate_batch(input, /*deep=*/true, decompressed_bytes_max);
  if (validated && validated->codec() == compression_codec::none) {
    // A batch that validates must have exactly record_count parseable records.
    auto records = input.subspan(batch_header_size, validated->size_bytes() - batch_header_size);
    record_reader reader(records, validated->record_count);
    int32_t count = 0;
    while (reader.has_next()) {
      auto r = reader.next();
      if (!r) __builtin_trap();
      ++count;
    }
    if (count != validated->record_count || !reader.finish()) __builtin_trap();
  }
  // The codecs on their own, with raw fuzzer bytes as the compressed stream.
  if (size > 0) {
    auto codec = static_cast<compression_codec>(data[0] % 5);
    (void)decompress(codec, input.subspan(1), decompressed_bytes_max);
  }
  (void)header;
  return 0;
}
