#pragma once

// The error type of the storage subsystem. Every expected failure (a full disk, a failed fsync,
// corrupt bytes on disk, an offset outside the log) is returned as a value of this type; Kafka
// error codes are chosen from `code` only at the handler boundary.

#include <string>
#include <utility>

#include "base/result.h"

namespace sluice::storage {

enum class errc {
  io_error,                // a system call failed (EIO and anything not listed below)
  no_space,                // ENOSPC / EDQUOT
  not_found,               // ENOENT, or an unknown partition
  already_exists,          // EEXIST, or a partition created twice
  corrupt,                 // bytes on disk failed validation
  offset_out_of_range,     // a read or truncation outside [log start, log end]
  invalid_argument,        // a caller broke a documented precondition that input can cause
  log_failed,              // the log saw a failed fsync or write it could not undo; read-only now
  record_too_large,        // a batch larger than max.message.bytes
  out_of_order_sequence,   // an idempotent producer's batch does not follow its last one
  invalid_producer_epoch,  // an idempotent producer's epoch is older than its current one
};

const char* to_string(errc code);

struct error {
  errc code = errc::io_error;
  std::string message;
  int sys_errno = 0;  // the errno of the failed call, 0 when none

  std::string describe() const;
};

inline error make_error(errc code, std::string message, int sys_errno = 0) {
  return error{code, std::move(message), sys_errno};
}

// Maps an errno to the error code the caller can act on (ENOSPC is not the same as EIO).
error errno_error(int sys_errno, std::string context);

template <typename T>
using sresult = sluice::result<T, error>;

}  // namespace sluice::storage
