// libFuzzer target: request decoding as the server does it. The input is a request frame without
// its size prefix: header (api key, version, correlation id, client id, tags) then body. Any
// input must yield a codec_error or a message; a message that decodes must re-encode and decode
// to the same value. Never a crash, a hang or an allocation sized by the input.

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/header.h"
#include "protocol/messages/all.h"
#include "protocol/wire.h"

namespace {

using namespace sluice::protocol;

template <typename Message>
void decode_and_round_trip(std::span<const uint8_t> body, int16_t version) {
  Message decoded;
  if (!decode_message(decoded, body, version)) return;
  writer w;
  if (!decoded.encode(w, version)) __builtin_trap();
  auto encoded = std::move(w).finish().flatten();
  if (!encoded) __builtin_trap();
  Message again;
  if (!decode_message(again, std::span<const uint8_t>(*encoded), version)) __builtin_trap();
  if (!(again == decoded)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> frame(data, size);
  auto prefix = peek_request_header(frame);
  if (!prefix) return 0;
  const api_descriptor* api = find_api(prefix->api_key);
  if (api == nullptr) return 0;
  int16_t version = prefix->api_version;
  if (!api->supports(version)) {
    // Versions we do not serve are still decoded at the nearest served one, to reach more code.
    version = version < api->min_version ? api->min_version : api->max_version;
  }
  reader r(frame);
  request_header header;
  if (!header.decode(r, request_header_version(api->key, version))) return 0;
  auto body = frame.subspan(r.offset());
  visit_api(api->key, [&]<typename Request, typename Response>() {
    decode_and_round_trip<Request>(body, version);
    decode_and_round_trip<Response>(body, version);
  });
  return 0;
}
