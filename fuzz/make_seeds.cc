// Writes the seed corpora of the fuzz targets: fuzz/corpus/request/ gets one request frame per
// API and version (header v0-v2 as the API uses it, default-valued body), fuzz/corpus/
// record_batch/ a batch per codec with keys, values and headers. Run: make_fuzz_seeds <fuzz dir>.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocol/batch_builder.h"
#include "protocol/header.h"
#include "protocol/messages/all.h"

namespace {

using namespace sluice::protocol;

void write_file(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void request_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& api : all_apis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      visit_api(api.key, [&]<typename Request, typename Response>() {
        writer w;
        request_header header{api.key, v, 7, std::string("seed"), {}};
        (void)header.encode(w, request_header_version(api.key, v));
        (void)Request{}.encode(w, v);
        auto frame = std::move(w).finish().flatten();
        if (frame) write_file(dir / (std::string(api.name) + "_v" + std::to_string(v)), *frame);
      });
    }
  }
}

void batch_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const compression_codec codecs[] = {compression_codec::none, compression_codec::gzip,
                                      compression_codec::snappy, compression_codec::lz4,
                                      compression_codec::zstd};
  for (auto codec : codecs) {
    batch_builder b(codec);
    for (int i = 0; i < 5; ++i) {
      std::string key = "key-" + std::to_string(i);
      std::string value(40 + i, static_cast<char>('a' + i));
      const record_header headers[] = {{"h", bytes_of("v")}};
      b.add(1700000000000 + i, bytes_of(key), bytes_of(value), headers);
    }
    auto batch = b.build();
    write_file(dir / ("batch_" + std::string(to_string(codec))), batch);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds <fuzz dir>\n");
    return 2;
  }
  std::filesystem::path root(argv[1]);
  request_seeds(root / "corpus" / "request");
  batch_seeds(root / "corpus" / "record_batch");
  return 0;
}
