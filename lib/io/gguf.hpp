// Reader for GGUF (versions 2 and 3), llama.cpp's single-file format: a header of typed key/value
// metadata (hyper-parameters, the tokenizer vocabulary, ...), a table of tensor descriptions, then the
// aligned tensor data, often block-quantized. The file is memory-mapped; every count, length and offset
// read from it is checked against the bytes that remain before anything is allocated or touched, so a
// corrupt or hostile file gives FormatError (or Unsupported for a valid but unknown tensor type), never
// an out-of-bounds read or a huge allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/mapped_file.hpp"

namespace breadth::io {

/// ggml tensor element types, numbered as in ggml.h (the number is what the file stores).
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

/// "Q4_1", "F16", ... or "type#<n>" for a number breadth does not know.
std::string ggml_type_name(GgmlType t);

/// Elements per block and bytes per block of `t` (1 and the element size for plain types).
/// Throws Unsupported for a type breadth cannot size.
struct GgmlBlockInfo {
  int64_t block_elems;
  int64_t block_bytes;
};
GgmlBlockInfo ggml_block_info(GgmlType t);

/// True when `dequantize` can convert tensors of type `t` to float32.
bool ggml_can_dequantize(GgmlType t);

/// Metadata value types, numbered as in the GGUF specification.
enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  ///< ggml order: ne[0] is the fastest-varying (the reverse of torch's)
  GgmlType type;
  uint64_t offset;             ///< relative to the start of the data section, as stored
  const uint8_t* data;         ///< points into the file; valid while the GgufFile lives
  uint64_t nbytes;             ///< exactly what type and shape need
  int64_t numel() const;
};

/// Whether `path` is a regular file that starts with the GGUF magic bytes ("GGUF"), whatever its
/// name. How every loader recognises a GGUF file.
bool is_gguf_file(const std::string& path);

class GgufFile {
 public:
  /// Maps and validates `path`. Throws IoError (missing/unreadable), FormatError (corrupt).
  explicit GgufFile(const std::string& path);
  /// Parses an in-memory buffer (for fuzzing and tests); `data` must outlive the object.
  GgufFile(const uint8_t* data, size_t size, std::string label);
  ~GgufFile();
  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;

  /// MappedFile::release_pages of the mapped file (nothing for an in-memory buffer).
  void release_pages() const noexcept;

  uint32_t version() const;
  /// The path given to the constructor (or the label of an in-memory buffer).
  const std::string& path() const;

  // ------------------------------------------------------------------------------- metadata
  bool has(const std::string& key) const;
  /// Value type of `key`; nullopt when absent.
  std::optional<GgufValueType> type_of(const std::string& key) const;
  /// Element type of the array `key`; nullopt when absent or not an array.
  std::optional<GgufValueType> array_type_of(const std::string& key) const;
  /// Number of elements of the array `key` (0 when absent or not an array).
  uint64_t array_size(const std::string& key) const;
  /// All keys, in file order.
  std::vector<std::string> keys() const;

  // Getters throw FormatError naming the key and file when the key is missing or has a type that does
  // not convert. get_int accepts every integer type (and bool); get_float every integer and float
  // type; uint64 values above INT64_MAX do not convert.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;

  // Same, with a default for a missing key (a present key of the wrong type still throws).
  std::string get_string(const std::string& key, const std::string& def) const;
  int64_t get_int(const std::string& key, int64_t def) const;
  double get_float(const std::string& key, double def) const;
  bool get_bool(const std::string& key, bool def) const;

  // nullopt for a missing key (a present key of the wrong type still throws).
  std::optional<std::string> find_string(const std::string& key) const;
  std::optional<int64_t> find_int(const std::string& key) const;
  std::optional<double> find_float(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;
  std::optional<std::vector<std::string>> find_string_array(const std::string& key) const;
  std::optional<std::vector<int64_t>> find_int_array(const std::string& key) const;
  std::optional<std::vector<double>> find_float_array(const std::string& key) const;

  /// general.architecture ("llama", "qwen2", ...); throws FormatError when absent.
  std::string architecture() const;
  /// general.alignment, or 32 when absent.
  uint64_t alignment() const;

  // ------------------------------------------------------------------------------- tensors
  /// In file order.
  const std::vector<GgufTensorInfo>& tensors() const;
  /// nullptr when absent.
  const GgufTensorInfo* find(const std::string& name) const;
  /// Throws FormatError naming the tensor and file when absent.
  const GgufTensorInfo& at(const std::string& name) const;
  /// Writes numel() float32 values to `out` in file (ggml) order. Throws Unsupported for a type
  /// breadth cannot dequantize. Large tensors are converted on several threads.
  void dequantize(const GgufTensorInfo& t, float* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breadth::io
