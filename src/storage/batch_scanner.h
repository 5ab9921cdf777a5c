#pragma once

// batch_scanner: walks the batches of one .log file from a position, reading headers (and, when
// asked, every byte to check the CRC32C) through a bounded buffer. Used by recovery, index
// rebuilds, offset and timestamp lookups and compaction. It never allocates more than its
// buffer, whatever a damaged length field says.
//
// Not thread-safe; the file must outlive the scanner.

#include <optional>
#include <string>
#include <vector>

#include "storage/batch.h"
#include "storage/file_system.h"

namespace sluice::storage {

struct scanned_batch {
  batch_info info;
  uint64_t position = 0;  // where the batch starts in the file
};

class batch_scanner {
 public:
  // Scans [position, end_position) of `log`. With `verify_crc` every byte is read and checked.
  batch_scanner(file& log, uint64_t position, uint64_t end_position, bool verify_crc,
                size_t buffer_bytes = 256 * 1024);

  // The next batch, or nullopt at exactly end_position. A batch that does not fit before
  // end_position, a header that does not parse or a CRC mismatch fails with errc::corrupt and
  // leaves position() at the start of the bad batch, where the caller may truncate.
  sresult<std::optional<scanned_batch>> next();

  uint64_t position() const { return _position; }

 private:
  // Makes [position, position + bytes) available in the buffer; false at end of file.
  sresult<bool> fill(uint64_t position, size_t bytes);
  sresult<bool> crc_matches(uint64_t position, const batch_info& info, uint32_t stored_crc);

  file& _log;
  uint64_t _position;
  uint64_t _end;
  bool _verify_crc;
  std::vector<uint8_t> _buffer;
  uint64_t _buffer_position = 0;  // file position of _buffer[0]
  size_t _buffer_size = 0;        // valid bytes in _buffer
};

}  // namespace sluice::storage
