#include "storage/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace sluice::storage {

const char* to_string(errc code) {
  switch (code) {
    case errc::io_error:
      return "io_error";
    case errc::no_space:
      return "no_space";
    case errc::not_found:
      return "not_found";
    case errc::already_exists:
      return "already_exists";
    case errc::corrupt:
      return "corrupt";
    case errc::offset_out_of_range:
      return "offset_out_of_range";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::log_failed:
      return "log_failed";
    case errc::record_too_large:
      return "record_too_large";
    case errc::out_of_order_sequence:
      return "out_of_order_sequence";
    case errc::invalid_producer_epoch:
      return "invalid_producer_epoch";
  }
  return "unknown";
}

std::string error::describe() const {
  if (sys_errno != 0) {
    return fmt::format("{}: {} ({})", to_string(code), message, std::strerror(sys_errno));
  }
  return fmt::format("{}: {}", to_string(code), message);
}

error errno_error(int sys_errno, std::string context) {
  errc code = errc::io_error;
  if (sys_errno == ENOSPC || sys_errno == EDQUOT) code = errc::no_space;
  if (sys_errno == ENOENT) code = errc::not_found;
  if (sys_errno == EEXIST) code = errc::already_exists;
  return error{code, std::move(context), sys_errno};
}

}  // namespace sluice::storage
