// Reader for the safetensors format: an 8-byte little-endian header length, a JSON header mapping
// tensor names to {dtype, shape, data_offsets}, then the raw data. Every offset is checked against
// the file before it is used; a corrupt file gives FormatError, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.hpp"

namespace breadth::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// Bytes per element of `d`.
size_t dtype_size(DType d);
const char* dtype_name(DType d);

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  ///< points into the mapped file; valid while the file lives
  uint64_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  /// Maps and validates `path`. Throws IoError (missing/unreadable) or FormatError (corrupt).
  explicit SafetensorsFile(const std::string& path);
  /// Parses an in-memory buffer (used by the fuzzer); `data` must outlive the object.
  SafetensorsFile(const uint8_t* data, size_t size, std::string label);

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  /// nullptr when absent.
  const TensorView* find(const std::string& name) const;
  /// Throws FormatError naming the tensor and the file when absent.
  const TensorView& at(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return label_; }

 private:
  void parse(const uint8_t* data, size_t size);
  std::shared_ptr<MappedFile> file_;
  std::string label_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Writes tensors (contiguous little-endian bytes) to `path` in safetensors format.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  uint64_t nbytes;
};
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace breadth::io
