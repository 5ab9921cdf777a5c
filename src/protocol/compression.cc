#include "protocol/compression.h"

#include <fmt/format.h>
#include <lz4frame.h>
#include <snappy.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include "base/assert.h"
#include "protocol/big_endian.h"

namespace sluice::protocol {

namespace {

using codec_result = result<std::vector<uint8_t>, compression_error>;

failure<compression_error> fail(compression_errc code, std::string message) {
  return failure(compression_error{code, std::move(message)});
}

// The output of a decompression: grows by doubling, never beyond `bytes_max`. Once at the bound,
// space() hands out a one-byte probe instead, so that a codec that still has output to give
// reveals it (overflowed()) without the buffer ever growing past the bound.
class bounded_output {
 public:
  bounded_output(size_t bytes_max, size_t size_hint) : _bytes_max(bytes_max) {
    _buffer.resize(std::min(bytes_max, std::max(size_hint, initial_bytes)));
  }

  std::span<uint8_t> space() {
    if (_used == _buffer.size() && _used < _bytes_max) {
      _buffer.resize(_used + std::min(_bytes_max - _used, std::max(_used, initial_bytes)));
    }
    if (_used == _buffer.size()) return _probe;
    return std::span(_buffer).subspan(_used);
  }

  // Records `n` bytes written into the last space().
  void commit(size_t n) {
    if (n == 0) return;
    if (_used == _buffer.size()) {
      _overflowed = true;  // they went into the probe
      return;
    }
    _used += n;
  }

  bool overflowed() const { return _overflowed; }

  std::vector<uint8_t> take() && {
    _buffer.resize(_used);
    return std::move(_buffer);
  }

 private:
  static constexpr size_t initial_bytes = 4096;
  size_t _bytes_max;
  size_t _used = 0;
  bool _overflowed = false;
  std::vector<uint8_t> _buffer;
  std::array<uint8_t, 1> _probe{};
};

failure<compression_error> too_large(size_t output_bytes_max) {
  return fail(compression_errc::too_large,
              fmt::format("decompressed size exceeds {} bytes", output_bytes_max));
}

// ---- gzip -------------------------------------------------------------------------------------

constexpr int gzip_window_bits = 16 + MAX_WBITS;  // 16 selects the gzip wrapper

codec_result gzip_compress(std::span<const uint8_t> in, int level) {
  if (level == compression_level_default) level = Z_DEFAULT_COMPRESSION;
  if (level != Z_DEFAULT_COMPRESSION && (level < 0 || level > 9)) {
    return fail(compression_errc::invalid_level, fmt::format("gzip level {}", level));
  }
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return fail(compression_errc::internal, "deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
    return fail(compression_errc::internal, "deflate did not finish within deflateBound");
  }
  out.resize(zs.total_out);
  return out;
}

// Accepts several gzip members one after another, as gunzip and Java's GZIPInputStream do.
codec_result gzip_decompress(std::span<const uint8_t> in, size_t output_bytes_max) {
  z_stream zs{};
  if (inflateInit2(&zs, gzip_window_bits) != Z_OK) {
    return fail(compression_errc::internal, "inflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  bounded_output out(output_bytes_max, in.size() * 2);
  while (true) {
    auto space = out.space();
    zs.next_out = space.data();
    zs.avail_out = static_cast<uInt>(std::min<size_t>(space.size(), UINT32_MAX));
    const uInt avail_before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.commit(avail_before - zs.avail_out);
    if (out.overflowed()) return too_large(output_bytes_max);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // another member follows
      continue;
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      return fail(compression_errc::corrupt, fmt::format("gzip: {}", zs.msg ? zs.msg : "bad data"));
    }
    if (rc == Z_MEM_ERROR) return fail(compression_errc::internal, "gzip: out of memory");
    // Z_OK or Z_BUF_ERROR: zlib wants more input when it has used all of it and still has room
    // to write; there is none, so the stream is cut short.
    if (zs.avail_in == 0 && zs.avail_out > 0) {
      return fail(compression_errc::truncated, "gzip stream ends early");
    }
    if (rc == Z_BUF_ERROR && zs.avail_out > 0) {
      return fail(compression_errc::corrupt, "gzip: no progress");
    }
  }
  return std::move(out).take();
}

// ---- snappy -----------------------------------------------------------------------------------

// snappy-java ("xerial") framing, which Kafka's Java client writes: an 8-byte magic, two int32
// versions, then blocks of {int32 big-endian compressed length, raw snappy block}.
constexpr std::array<uint8_t, 8> xerial_magic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16;
constexpr int32_t xerial_version = 1;
constexpr int32_t xerial_compatible_version = 1;
// snappy-java's default block size; Java consumers accept any.
constexpr size_t xerial_block_bytes = 32 * 1024;

bool is_xerial(std::span<const uint8_t> in) {
  return in.size() >= xerial_header_size &&
         std::equal(xerial_magic.begin(), xerial_magic.end(), in.begin());
}

codec_result snappy_compress(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(xerial_header_size);
  std::copy(xerial_magic.begin(), xerial_magic.end(), out.begin());
  store_big_endian<int32_t>(out.data() + 8, xerial_version);
  store_big_endian<int32_t>(out.data() + 12, xerial_compatible_version);
  for (size_t pos = 0; pos < in.size(); pos += xerial_block_bytes) {
    const size_t n = std::min(xerial_block_bytes, in.size() - pos);
    const size_t at = out.size();
    out.resize(at + 4 + snappy::MaxCompressedLength(n));
    size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + pos), n,
                        reinterpret_cast<char*>(out.data() + at + 4), &written);
    store_big_endian<int32_t>(out.data() + at, static_cast<int32_t>(written));
    out.resize(at + 4 + written);
  }
  return out;
}

// Appends the raw snappy block `block` to `out`. The block starts with its uncompressed length,
// which the sender chose: it is checked against the bound before anything is allocated.
result<void, compression_error> snappy_raw_append(std::span<const uint8_t> block,
                                                  std::vector<uint8_t>& out,
                                                  size_t output_bytes_max) {
  const auto* data = reinterpret_cast<const char*>(block.data());
  size_t length = 0;
  if (!snappy::GetUncompressedLength(data, block.size(), &length)) {
    return fail(compression_errc::corrupt, "snappy: bad block length");
  }
  if (length > output_bytes_max - out.size()) return too_large(output_bytes_max);
  const size_t at = out.size();
  out.resize(at + length);
  if (!snappy::RawUncompress(data, block.size(), reinterpret_cast<char*>(out.data() + at))) {
    return fail(compression_errc::corrupt, "snappy: corrupt block");
  }
  return {};
}

codec_result snappy_decompress(std::span<const uint8_t> in, size_t output_bytes_max) {
  std::vector<uint8_t> out;
  if (!is_xerial(in)) {
    // librdkafka may send one raw block without framing.
    auto appended = snappy_raw_append(in, out, output_bytes_max);
    if (!appended) return failure(appended.error());
    return out;
  }
  // The versions are not checked: snappy-java itself only rejects a compatible version below 1,
  // and no other version has ever been written.
  for (size_t pos = xerial_header_size; pos < in.size();) {
    if (in.size() - pos < 4) return fail(compression_errc::truncated, "snappy: cut block length");
    const auto length = load_big_endian<uint32_t>(in.data() + pos);
    pos += 4;
    if (length > in.size() - pos) return fail(compression_errc::truncated, "snappy: cut block");
    auto appended = snappy_raw_append(in.subspan(pos, length), out, output_bytes_max);
    if (!appended) return failure(appended.error());
    pos += length;
  }
  return out;
}

// ---- lz4 --------------------------------------------------------------------------------------

constexpr uint32_t lz4_frame_magic = 0x184D2204;  // little-endian on the wire
constexpr uint8_t lz4_flg_block_independence = 0x20;

codec_result lz4_compress(std::span<const uint8_t> in, int level) {
  LZ4F_preferences_t prefs{};
  // Kafka's Java reader decodes each block on its own (no linked blocks) with buffers sized by
  // the frame's block size; 64 KiB independent blocks without checksums is what Java writes.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.compressionLevel = level == compression_level_default ? 0 : level;
  std::vector<uint8_t> out(LZ4F_compressFrameBound(in.size(), &prefs));
  const size_t written = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(written)) {
    return fail(compression_errc::internal, fmt::format("lz4: {}", LZ4F_getErrorName(written)));
  }
  out.resize(written);
  return out;
}

// Exactly one frame, with independent blocks: Kafka's Java reader stops after the first frame and
// cannot decode linked blocks, so accepting more would store batches Java consumers cannot read.
codec_result lz4_decompress(std::span<const uint8_t> in, size_t output_bytes_max) {
  if (in.size() < 5) return fail(compression_errc::truncated, "lz4: no frame header");
  const uint32_t magic =
      uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 24;
  if (magic != lz4_frame_magic) return fail(compression_errc::corrupt, "lz4: not an LZ4 frame");
  if ((in[4] & lz4_flg_block_independence) == 0) {
    return fail(compression_errc::corrupt, "lz4: linked blocks are not supported");
  }
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return fail(compression_errc::internal, "lz4: cannot create a context");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> dctx(raw,
                                                                    LZ4F_freeDecompressionContext);
  bounded_output out(output_bytes_max, in.size() * 2);
  size_t pos = 0;
  while (true) {
    auto space = out.space();
    size_t written = space.size();
    size_t consumed = in.size() - pos;
    const size_t hint =
        LZ4F_decompress(dctx.get(), space.data(), &written, in.data() + pos, &consumed, nullptr);
    pos += consumed;
    out.commit(written);
    if (LZ4F_isError(hint)) {
      return fail(compression_errc::corrupt, fmt::format("lz4: {}", LZ4F_getErrorName(hint)));
    }
    if (out.overflowed()) return too_large(output_bytes_max);
    if (consumed == 0 && written == 0 && hint != 0 && pos < in.size()) {
      return fail(compression_errc::corrupt, "lz4: no progress");  // a safety net for the loop
    }
    if (hint == 0) {
      if (pos != in.size()) return fail(compression_errc::corrupt, "lz4: bytes after the frame");
      break;
    }
    // Still inside the frame with all input used; a full output may just mean more to drain.
    if (pos == in.size() && written < space.size()) {
      return fail(compression_errc::truncated, "lz4 frame ends early");
    }
  }
  return std::move(out).take();
}

// ---- zstd -------------------------------------------------------------------------------------

codec_result zstd_compress(std::span<const uint8_t> in, int level) {
  if (level == compression_level_default) level = ZSTD_CLEVEL_DEFAULT;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return fail(compression_errc::invalid_level, fmt::format("zstd level {}", level));
  }
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  const size_t written = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(written)) {
    return fail(compression_errc::internal, fmt::format("zstd: {}", ZSTD_getErrorName(written)));
  }
  out.resize(written);
  return out;
}

codec_result zstd_decompress_with(ZSTD_DCtx* dctx, std::span<const uint8_t> in,
                                  size_t output_bytes_max) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  bounded_output out(output_bytes_max, in.size() * 2);
  while (true) {
    auto space = out.space();
    ZSTD_outBuffer output{space.data(), space.size(), 0};
    const size_t consumed_before = input.pos;
    const size_t hint = ZSTD_decompressStream(dctx, &output, &input);
    out.commit(output.pos);
    if (ZSTD_isError(hint)) {
      return fail(compression_errc::corrupt, fmt::format("zstd: {}", ZSTD_getErrorName(hint)));
    }
    if (out.overflowed()) return too_large(output_bytes_max);
    if (hint == 0 && input.pos == input.size) break;  // the last frame is complete
    if (input.pos == consumed_before && output.pos == 0 && input.pos < input.size) {
      return fail(compression_errc::corrupt, "zstd: no progress");  // a safety net for the loop
    }
    if (hint != 0 && input.pos == input.size && output.pos < output.size) {
      return fail(compression_errc::truncated, "zstd frame ends early");
    }
  }
  return std::move(out).take();
}

using zstd_dctx_ptr = std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)>;

// A context that grew past this (after a frame with a large window) is dropped after use, so
// that one hostile frame does not pin its memory for the life of the thread.
constexpr size_t zstd_dctx_kept_bytes_max = size_t{8} << 20;

// One context per thread, reused: creating one costs several times more than decompressing a
// small batch.
zstd_dctx_ptr& thread_zstd_dctx() {
  thread_local zstd_dctx_ptr dctx(nullptr, ZSTD_freeDCtx);
  if (!dctx) dctx.reset(ZSTD_createDCtx());
  return dctx;
}

// Streaming, so that frames without a content size (Java's ZstdOutputStream writes those) work
// and a declared content size is never trusted for allocation. Several frames decode to their
// concatenation. zstd's default window limit (2^27 bytes) caps the history buffer it reserves;
// the pages it touches are bounded by the output, which the bound caps.
codec_result zstd_decompress(std::span<const uint8_t> in, size_t output_bytes_max) {
  zstd_dctx_ptr& dctx = thread_zstd_dctx();
  if (!dctx) return fail(compression_errc::internal, "zstd: cannot create a context");
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);  // forget a failed previous stream
  auto decoded = zstd_decompress_with(dctx.get(), in, output_bytes_max);
  if (ZSTD_sizeof_DCtx(dctx.get()) > zstd_dctx_kept_bytes_max) dctx.reset();
  return decoded;
}

}  // namespace

std::string_view to_string(compression_codec codec) {
  switch (codec) {
    case compression_codec::none:
      return "none";
    case compression_codec::gzip:
      return "gzip";
    case compression_codec::snappy:
      return "snappy";
    case compression_codec::lz4:
      return "lz4";
    case compression_codec::zstd:
      return "zstd";
  }
  return "unknown";
}

result<std::vector<uint8_t>, compression_error> compress(compression_codec codec,
                                                         std::span<const uint8_t> in, int level) {
  if (in.size() > UINT32_MAX) return fail(compression_errc::too_large, "input exceeds 4 GiB");
  switch (codec) {
    case compression_codec::none:
      return std::vector<uint8_t>(in.begin(), in.end());
    case compression_codec::gzip:
      return gzip_compress(in, level);
    case compression_codec::snappy:
      return snappy_compress(in);
    case compression_codec::lz4:
      return lz4_compress(in, level);
    case compression_codec::zstd:
      return zstd_compress(in, level);
  }
  return fail(compression_errc::unknown_codec,
              fmt::format("unknown codec {}", static_cast<int>(codec)));
}

result<std::vector<uint8_t>, compression_error> decompress_lz4_ignoring_header_checksum(
    std::span<const uint8_t> in, size_t output_bytes_max) {
  // FLG (version, flags), BD (block size), then an optional content size and dictionary id.
  constexpr size_t flg_at = 4;
  if (in.size() <= flg_at) return fail(compression_errc::truncated, "lz4: no frame header");
  const uint8_t flg = in[flg_at];
  const size_t descriptor_bytes = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  const size_t checksum_at = flg_at + descriptor_bytes;
  if (in.size() <= checksum_at) return fail(compression_errc::truncated, "lz4: cut frame header");
  std::vector<uint8_t> frame(in.begin(), in.end());
  frame[checksum_at] = static_cast<uint8_t>(XXH32(&frame[flg_at], descriptor_bytes, 0) >> 8);
  return decompress(compression_codec::lz4, frame, output_bytes_max);
}

result<std::vector<uint8_t>, compression_error> decompress(compression_codec codec,
                                                           std::span<const uint8_t> in,
                                                           size_t output_bytes_max) {
  // zlib counts input in 32-bit units; no Kafka batch comes near this (batch_length is int32).
  if (in.size() > UINT32_MAX) return fail(compression_errc::too_large, "input exceeds 4 GiB");
  switch (codec) {
    case compression_codec::none:
      if (in.size() > output_bytes_max) return too_large(output_bytes_max);
      return std::vector<uint8_t>(in.begin(), in.end());
    case compression_codec::gzip:
      return gzip_decompress(in, output_bytes_max);
    case compression_codec::snappy:
      return snappy_decompress(in, output_bytes_max);
    case compression_codec::lz4:
      return lz4_decompress(in, output_bytes_max);
    case compression_codec::zstd:
      return zstd_decompress(in, output_bytes_max);
  }
  return fail(compression_errc::unknown_codec,
              fmt::format("unknown codec {}", static_cast<int>(codec)));
}

}  // namespace sluice::protocol
