// breadth's one error hierarchy.
//
// Every failure the library reports is a `breadth::Error` (a std::runtime_error) of one of the
// subclasses below. Messages name the argument or file at fault and say what to do about it. The C API
// maps each class to a `breadth_status` code (capi/breadth.h); Python raises a breadth.Error subclass per
// code carrying `.code` (InvalidArgumentError is also a ValueError; bindings/python/src/module.cpp).
#pragma once

#include <stdexcept>
#include <string>

namespace breadth {

/// Stable numeric codes, shared with the C API (`BREADTH_ERR_*`).
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArgument = 1,  ///< a parameter is out of range, a shape is wrong, a name is unknown
  kIo = 2,               ///< a file is missing or cannot be read
  kFormat = 3,           ///< a file exists but is corrupt, truncated or not what it claims to be
  kUnsupported = 4,      ///< valid input that breadth does not handle (architecture, quantization, ...)
  kNumeric = 5,          ///< NaN/Inf where a probability was expected
  kCancelled = 6,        ///< a user callback asked to stop
  kInternal = 7,         ///< a bug in breadth or an unexpected exception from a dependency
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorCode code = ErrorCode::kInternal)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

#define BREADTH_DEFINE_ERROR(Name, Code)                                       \
  class Name : public Error {                                                  \
   public:                                                                     \
    explicit Name(const std::string& message) : Error(message, ErrorCode::Code) {} \
  };

BREADTH_DEFINE_ERROR(InvalidArgument, kInvalidArgument)
BREADTH_DEFINE_ERROR(IoError, kIo)
BREADTH_DEFINE_ERROR(FormatError, kFormat)
BREADTH_DEFINE_ERROR(Unsupported, kUnsupported)
BREADTH_DEFINE_ERROR(NumericError, kNumeric)
BREADTH_DEFINE_ERROR(Cancelled, kCancelled)
#undef BREADTH_DEFINE_ERROR

}  // namespace breadth
