#include "protocol/header.h"

#include <fmt/format.h>

namespace sluice::protocol {

namespace {

codec_error bad_header_version(int16_t version, int16_t max, size_t offset) {
  return codec_error{fmt::format("header version {} is not in 0-{}", version, max), offset};
}

}  // namespace

result<request_header_prefix, codec_error> peek_request_header(std::span<const uint8_t> frame) {
  reader r(frame);
  request_header_prefix p;
  r.read(p.api_key);
  r.read(p.api_version);
  r.read(p.correlation_id);
  if (!r.ok()) return failure(r.error());
  return p;
}

codec_result request_header::decode(reader& r, int16_t header_version) {
  if (header_version < 0 || header_version > 2) {
    return failure(bad_header_version(header_version, 2, r.offset()));
  }
  r.read(api_key);
  r.read(api_version);
  r.read(correlation_id);
  client_id.reset();
  tags = {};
  // The client id kept its int16 length when headers became flexible (KIP-482).
  if (header_version >= 1) r.read(client_id, false, true);
  if (header_version >= 2) r.read_tagged_fields(tags);
  return r.status();
}

codec_result request_header::encode(writer& w, int16_t header_version) const {
  if (header_version < 0 || header_version > 2) {
    return failure(bad_header_version(header_version, 2, w.size()));
  }
  w.write(api_key);
  w.write(api_version);
  w.write(correlation_id);
  if (header_version >= 1) {
    w.write(client_id, false, true);
  } else if (client_id) {
    w.fail_absent("client_id", header_version);
  }
  if (header_version >= 2) {
    w.write_tagged_fields(tags);
  } else if (!tags.empty()) {
    w.fail_absent("tagged_fields", header_version);
  }
  return w.status();
}

codec_result response_header::decode(reader& r, int16_t header_version) {
  if (header_version < 0 || header_version > 1) {
    return failure(bad_header_version(header_version, 1, r.offset()));
  }
  r.read(correlation_id);
  tags = {};
  if (header_version >= 1) r.read_tagged_fields(tags);
  return r.status();
}

codec_result response_header::encode(writer& w, int16_t header_version) const {
  if (header_version < 0 || header_version > 1) {
    return failure(bad_header_version(header_version, 1, w.size()));
  }
  w.write(correlation_id);
  if (header_version >= 1) {
    w.write_tagged_fields(tags);
  } else if (!tags.empty()) {
    w.fail_absent("tagged_fields", header_version);
  }
  return w.status();
}

}  // namespace sluice::protocol
