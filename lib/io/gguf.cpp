#include "io/gguf.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/check.hpp"
#include "io/dequant.hpp"

// Layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), all little-endian:
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x { string key, u32 value_type, value },
//   tensor_count x { string name, u32 n_dims, i64 ne[n_dims], u32 ggml_type, u64 offset },
//   padding to general.alignment, then the data section (tensor offsets are relative to it).
// A string is u64 length + bytes; an array is u32 element type, u64 count, elements.

namespace breadth::io {

namespace {

constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayNesting = 8;      // deeper nesting only serves to exhaust the stack
constexpr uint64_t kDefaultAlignment = 32;

const char* value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "uint8";
    case GgufValueType::INT8: return "int8";
    case GgufValueType::UINT16: return "uint16";
    case GgufValueType::INT16: return "int16";
    case GgufValueType::UINT32: return "uint32";
    case GgufValueType::INT32: return "int32";
    case GgufValueType::FLOAT32: return "float32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::UINT64: return "uint64";
    case GgufValueType::INT64: return "int64";
    case GgufValueType::FLOAT64: return "float64";
  }
  return "?";
}

/// Bytes of a fixed-size value type; 0 for string and array.
size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64: return 8;
    default: return 0;
  }
}

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::BOOL: return true;
    default: return false;
  }
}

bool is_float(GgufValueType t) { return t == GgufValueType::FLOAT32 || t == GgufValueType::FLOAT64; }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

/// A scalar at `p` of integer type `t`; false when it is a uint64 above INT64_MAX.
bool scalar_to_int(GgufValueType t, const uint8_t* p, int64_t* out) {
  switch (t) {
    case GgufValueType::UINT8: *out = load<uint8_t>(p); return true;
    case GgufValueType::BOOL: *out = load<uint8_t>(p) != 0; return true;
    case GgufValueType::INT8: *out = load<int8_t>(p); return true;
    case GgufValueType::UINT16: *out = load<uint16_t>(p); return true;
    case GgufValueType::INT16: *out = load<int16_t>(p); return true;
    case GgufValueType::UINT32: *out = load<uint32_t>(p); return true;
    case GgufValueType::INT32: *out = load<int32_t>(p); return true;
    case GgufValueType::INT64: *out = load<int64_t>(p); return true;
    case GgufValueType::UINT64: {
      uint64_t u = load<uint64_t>(p);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      *out = static_cast<int64_t>(u);
      return true;
    }
    default: return false;
  }
}

double scalar_to_double(GgufValueType t, const uint8_t* p) {
  switch (t) {
    case GgufValueType::FLOAT32: return load<float>(p);
    case GgufValueType::FLOAT64: return load<double>(p);
    case GgufValueType::UINT64: return static_cast<double>(load<uint64_t>(p));
    default: {
      int64_t v = 0;
      scalar_to_int(t, p, &v);
      return static_cast<double>(v);
    }
  }
}

/// Bounds-checked reading of the header. Every read names what it reads, for the error message.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, size_t pos, const std::string& label)
      : data_(data), size_(size), pos_(pos), label_(label) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      fail<FormatError>("'{}' is truncated or corrupt: {} at byte {} needs {} bytes but only {} remain",
                        label_, what, pos_, n, remaining());
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v = load<T>(data_ + pos_);
    pos_ += sizeof(T);
    return v;
  }
  /// Skips a string; returns its offset and length.
  std::pair<size_t, uint64_t> string(const char* what) {
    const uint64_t n = read<uint64_t>(what);
    need(n, what);
    const size_t at = pos_;
    pos_ += static_cast<size_t>(n);
    return {at, n};
  }
  std::string read_string(const char* what) {
    auto [at, n] = string(what);
    return std::string(reinterpret_cast<const char*>(data_ + at), static_cast<size_t>(n));
  }
  void skip(uint64_t n, const char* what) {
    need(n, what);
    pos_ += static_cast<size_t>(n);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_;
  const std::string& label_;
};

struct Value {
  GgufValueType type = GgufValueType::UINT8;
  size_t off = 0;  ///< scalar bytes, string bytes, or the first array element
  uint64_t len = 0;  ///< string length or array count
  GgufValueType elem = GgufValueType::UINT8;  ///< array element type
};

}  // namespace

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

struct GgufFile::Impl {
  std::unique_ptr<MappedFile> file;
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::string label;
  uint32_t version = 0;
  uint64_t alignment = kDefaultAlignment;
  std::vector<std::pair<std::string, Value>> kv;
  std::unordered_map<std::string, size_t> kv_index;
  std::vector<GgufTensorInfo> tensors;
  std::unordered_map<std::string, size_t> tensor_index;

  GgufValueType read_value_type(Cursor& c, const char* what) {
    const uint32_t t = c.read<uint32_t>(what);
    if (t > static_cast<uint32_t>(GgufValueType::FLOAT64))
      fail<FormatError>("'{}' is corrupt: metadata value type {} at byte {} is not a GGUF type", label,
                        t, c.pos() - 4);
    return static_cast<GgufValueType>(t);
  }

  /// Validates (skips) one value of type `t` at the cursor and describes it in `v`.
  void parse_value(Cursor& c, GgufValueType t, int depth, Value* v) {
    v->type = t;
    v->off = c.pos();
    if (size_t n = scalar_size(t)) {
      c.skip(n, "a metadata value");
      return;
    }
    if (t == GgufValueType::STRING) {
      auto [at, n] = c.string("a metadata string");
      v->off = at;
      v->len = n;
      return;
    }
    // Array.
    if (depth >= kMaxArrayNesting)
      fail<FormatError>("'{}' is corrupt: metadata arrays nested more than {} deep", label,
                        kMaxArrayNesting);
    const GgufValueType et = read_value_type(c, "an array element type");
    const uint64_t count = c.read<uint64_t>("an array length");
    v->elem = et;
    v->len = count;
    v->off = c.pos();
    if (size_t n = scalar_size(et)) {
      if (count > c.remaining() / n)
        fail<FormatError>("'{}' is truncated or corrupt: an array of {} {} values at byte {} exceeds "
                          "the {} bytes that remain",
                          label, count, value_type_name(et), c.pos(), c.remaining());
      c.skip(count * n, "array elements");
      return;
    }
    // Strings take at least 8 bytes each, arrays 12: a count beyond that is corrupt, and this check
    // keeps a hostile count from spinning the loop below.
    const size_t min_elem = et == GgufValueType::STRING ? 8 : 12;
    if (count > c.remaining() / min_elem)
      fail<FormatError>("'{}' is truncated or corrupt: an array of {} {} values at byte {} cannot fit "
                        "in the {} bytes that remain",
                        label, count, value_type_name(et), c.pos(), c.remaining());
    Value scratch;
    for (uint64_t i = 0; i < count; ++i) parse_value(c, et, depth + 1, &scratch);
  }

  void parse() {
    Cursor c(data, size, 0, label);
    if (size < 4 || std::memcmp(data, "GGUF", 4) != 0)
      fail<FormatError>("'{}' is not a GGUF file (it does not start with the magic 'GGUF')", label);
    c.skip(4, "the magic");
    version = c.read<uint32_t>("the version");
    if (version == 1)
      fail<Unsupported>("'{}' is GGUF version 1, which breadth does not read; re-convert it with a "
                        "current llama.cpp",
                        label);
    if (version != 2 && version != 3) {
      if ((version & 0xffffu) == 0)
        fail<Unsupported>("'{}' looks like a big-endian GGUF file, which breadth does not read", label);
      fail<Unsupported>("'{}' is GGUF version {}; breadth reads versions 2 and 3", label, version);
    }
    const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
    const uint64_t n_kv = c.read<uint64_t>("the metadata count");
    // The smallest key/value takes 8 (key length) + 4 (type) + 1 bytes; the smallest tensor
    // description 8 + 4 + 4 + 8. Larger counts cannot be true, so nothing is sized from them.
    if (n_kv > c.remaining() / 13 || n_tensors > c.remaining() / 24)
      fail<FormatError>("'{}' is truncated or corrupt: it claims {} metadata entries and {} tensors "
                        "in {} bytes",
                        label, n_kv, n_tensors, size);

    // The counts are only plausible, not proven (a big file leaves room for a big corrupt count):
    // reserve a bounded amount and let the vectors grow as entries actually parse.
    kv.reserve(static_cast<size_t>(std::min<uint64_t>(n_kv, 4096)));
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key = c.read_string("a metadata key");
      const GgufValueType t = read_value_type(c, "a metadata value type");
      Value v;
      parse_value(c, t, 0, &v);
      if (!kv_index.emplace(key, kv.size()).second)
        fail<FormatError>("'{}' is corrupt: metadata key '{}' appears twice", label, key);
      kv.emplace_back(std::move(key), v);
    }

    if (auto it = kv_index.find("general.alignment"); it != kv_index.end()) {
      const Value& v = kv[it->second].second;
      int64_t a = 0;
      if (!is_integer(v.type) || v.type == GgufValueType::BOOL || !scalar_to_int(v.type, data + v.off, &a) ||
          a <= 0 || (a & (a - 1)) != 0)
        fail<FormatError>("'{}' is corrupt: general.alignment must be a positive power of two", label);
      alignment = static_cast<uint64_t>(a);
    }

    tensors.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors, 4096)));
    for (uint64_t i = 0; i < n_tensors; ++i) {
      GgufTensorInfo t;
      t.name = c.read_string("a tensor name");
      const uint32_t n_dims = c.read<uint32_t>("a tensor's dimension count");
      if (n_dims > kMaxDims)
        fail<FormatError>("'{}' is corrupt: tensor '{}' has {} dimensions (at most {})", label, t.name,
                          n_dims, kMaxDims);
      int64_t numel = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const int64_t ne = c.read<int64_t>("a tensor dimension");
        if (ne < 0 || (ne > 0 && numel > std::numeric_limits<int64_t>::max() / ne))
          fail<FormatError>("'{}' is corrupt: tensor '{}' has an impossible shape", label, t.name);
        numel *= ne;
        t.shape.push_back(ne);
      }
      const uint32_t type = c.read<uint32_t>("a tensor type");
      t.type = static_cast<GgmlType>(type);
      GgmlBlockInfo bi{};
      try {
        bi = ggml_block_info(t.type);
      } catch (const Unsupported& e) {
        fail<Unsupported>("'{}': tensor '{}': {}", label, t.name, e.what());
      }
      t.offset = c.read<uint64_t>("a tensor offset");
      if (!t.shape.empty() && t.shape[0] % bi.block_elems != 0)
        fail<FormatError>("'{}' is corrupt: tensor '{}' has rows of {} elements, not a multiple of the "
                          "{}-element {} block",
                          label, t.name, t.shape[0], bi.block_elems, ggml_type_name(t.type));
      if (t.shape.empty() && bi.block_elems != 1)
        fail<FormatError>("'{}' is corrupt: tensor '{}' is a scalar of block type {}", label, t.name,
                          ggml_type_name(t.type));
      const uint64_t n_blocks = static_cast<uint64_t>(numel / bi.block_elems);
      // A tensor cannot hold more bytes than the file: this also keeps nbytes from overflowing.
      if (n_blocks > size / static_cast<uint64_t>(bi.block_bytes))
        fail<FormatError>("'{}' is truncated or corrupt: tensor '{}' ({} {}) needs more bytes than the "
                          "file has",
                          label, t.name, numel, ggml_type_name(t.type));
      t.nbytes = n_blocks * static_cast<uint64_t>(bi.block_bytes);
      if (t.offset % alignment != 0)
        fail<FormatError>("'{}' is corrupt: tensor '{}' starts at offset {}, not a multiple of the "
                          "alignment {}",
                          label, t.name, t.offset, alignment);
      if (!tensor_index.emplace(t.name, tensors.size()).second)
        fail<FormatError>("'{}' is corrupt: tensor '{}' appears twice", label, t.name);
      tensors.push_back(std::move(t));
    }

    // The data section starts at the next multiple of the alignment. A file without tensors may
    // end before it.
    const uint64_t pos = c.pos();
    const uint64_t data_start = pos + (alignment - pos % alignment) % alignment;
    for (auto& t : tensors) {
      if (data_start > size || t.offset > size - data_start || t.nbytes > size - data_start - t.offset)
        fail<FormatError>("'{}' is truncated or corrupt: tensor '{}' spans bytes [{}, {}) of the data "
                          "section, which has {}",
                          label, t.name, t.offset, t.offset + t.nbytes,
                          data_start > size ? 0 : size - data_start);
      t.data = data + data_start + t.offset;
    }
  }

  const Value* value(const std::string& key) const {
    auto it = kv_index.find(key);
    return it == kv_index.end() ? nullptr : &kv[it->second].second;
  }

  const Value& require(const std::string& key) const {
    const Value* v = value(key);
    if (!v)
      fail<FormatError>("'{}' has no metadata key '{}' (the file is incomplete or of another kind)",
                        label, key);
    return *v;
  }

  [[noreturn]] void wrong_type(const std::string& key, const Value& v, const char* wanted) const {
    if (v.type == GgufValueType::ARRAY)
      fail<FormatError>("'{}': metadata key '{}' is an array of {}, not {}", label, key,
                        value_type_name(v.elem), wanted);
    fail<FormatError>("'{}': metadata key '{}' is a {}, not {}", label, key, value_type_name(v.type),
                      wanted);
  }

  std::string string_of(const std::string& key, const Value& v) const {
    if (v.type != GgufValueType::STRING) wrong_type(key, v, "a string");
    return std::string(reinterpret_cast<const char*>(data + v.off), static_cast<size_t>(v.len));
  }
  int64_t int_of(const std::string& key, const Value& v) const {
    if (!is_integer(v.type)) wrong_type(key, v, "an integer");
    int64_t out = 0;
    if (!scalar_to_int(v.type, data + v.off, &out))
      fail<FormatError>("'{}': metadata key '{}' holds a uint64 too large for int64", label, key);
    return out;
  }
  double float_of(const std::string& key, const Value& v) const {
    if (!is_integer(v.type) && !is_float(v.type)) wrong_type(key, v, "a number");
    return scalar_to_double(v.type, data + v.off);
  }
  bool bool_of(const std::string& key, const Value& v) const {
    if (v.type != GgufValueType::BOOL) wrong_type(key, v, "a bool");
    return data[v.off] != 0;
  }
  std::vector<std::string> string_array_of(const std::string& key, const Value& v) const {
    if (v.type != GgufValueType::ARRAY || v.elem != GgufValueType::STRING)
      wrong_type(key, v, "an array of strings");
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(v.len));  // validated against the file size while parsing
    Cursor c(data, size, v.off, label);
    for (uint64_t i = 0; i < v.len; ++i) out.push_back(c.read_string("an array string"));
    return out;
  }
  std::vector<int64_t> int_array_of(const std::string& key, const Value& v) const {
    if (v.type != GgufValueType::ARRAY || !is_integer(v.elem)) wrong_type(key, v, "an array of integers");
    std::vector<int64_t> out(static_cast<size_t>(v.len));
    const size_t n = scalar_size(v.elem);
    for (uint64_t i = 0; i < v.len; ++i)
      if (!scalar_to_int(v.elem, data + v.off + i * n, &out[i]))
        fail<FormatError>("'{}': metadata array '{}' holds a uint64 too large for int64", label, key);
    return out;
  }
  std::vector<double> float_array_of(const std::string& key, const Value& v) const {
    if (v.type != GgufValueType::ARRAY || !(is_integer(v.elem) || is_float(v.elem)))
      wrong_type(key, v, "an array of numbers");
    std::vector<double> out(static_cast<size_t>(v.len));
    const size_t n = scalar_size(v.elem);
    for (uint64_t i = 0; i < v.len; ++i) out[i] = scalar_to_double(v.elem, data + v.off + i * n);
    return out;
  }
};

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in && in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

GgufFile::GgufFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->file = std::make_unique<MappedFile>(path);
  impl_->data = impl_->file->data();
  impl_->size = impl_->file->size();
  impl_->label = path;
  impl_->parse();
}

void GgufFile::release_pages() const noexcept {
  if (impl_ && impl_->file) impl_->file->release_pages();
}

GgufFile::GgufFile(const uint8_t* data, size_t size, std::string label)
    : impl_(std::make_unique<Impl>()) {
  static const uint8_t kEmpty = 0;
  impl_->data = data ? data : &kEmpty;
  impl_->size = data ? size : 0;
  impl_->label = std::move(label);
  impl_->parse();
}

GgufFile::~GgufFile() = default;
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;

uint32_t GgufFile::version() const { return impl_->version; }
const std::string& GgufFile::path() const { return impl_->label; }
uint64_t GgufFile::alignment() const { return impl_->alignment; }

bool GgufFile::has(const std::string& key) const { return impl_->value(key) != nullptr; }

std::optional<GgufValueType> GgufFile::type_of(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<GgufValueType>(v->type) : std::nullopt;
}

std::optional<GgufValueType> GgufFile::array_type_of(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v && v->type == GgufValueType::ARRAY ? std::optional<GgufValueType>(v->elem) : std::nullopt;
}

uint64_t GgufFile::array_size(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v && v->type == GgufValueType::ARRAY ? v->len : 0;
}

std::vector<std::string> GgufFile::keys() const {
  std::vector<std::string> out;
  out.reserve(impl_->kv.size());
  for (const auto& [k, v] : impl_->kv) out.push_back(k);
  return out;
}

std::string GgufFile::get_string(const std::string& key) const {
  return impl_->string_of(key, impl_->require(key));
}
int64_t GgufFile::get_int(const std::string& key) const { return impl_->int_of(key, impl_->require(key)); }
double GgufFile::get_float(const std::string& key) const {
  return impl_->float_of(key, impl_->require(key));
}
bool GgufFile::get_bool(const std::string& key) const { return impl_->bool_of(key, impl_->require(key)); }
std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  return impl_->string_array_of(key, impl_->require(key));
}
std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  return impl_->int_array_of(key, impl_->require(key));
}
std::vector<double> GgufFile::get_float_array(const std::string& key) const {
  return impl_->float_array_of(key, impl_->require(key));
}

std::string GgufFile::get_string(const std::string& key, const std::string& def) const {
  const Value* v = impl_->value(key);
  return v ? impl_->string_of(key, *v) : def;
}
int64_t GgufFile::get_int(const std::string& key, int64_t def) const {
  const Value* v = impl_->value(key);
  return v ? impl_->int_of(key, *v) : def;
}
double GgufFile::get_float(const std::string& key, double def) const {
  const Value* v = impl_->value(key);
  return v ? impl_->float_of(key, *v) : def;
}
bool GgufFile::get_bool(const std::string& key, bool def) const {
  const Value* v = impl_->value(key);
  return v ? impl_->bool_of(key, *v) : def;
}

std::optional<std::string> GgufFile::find_string(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<std::string>(impl_->string_of(key, *v)) : std::nullopt;
}
std::optional<int64_t> GgufFile::find_int(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<int64_t>(impl_->int_of(key, *v)) : std::nullopt;
}
std::optional<double> GgufFile::find_float(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<double>(impl_->float_of(key, *v)) : std::nullopt;
}
std::optional<bool> GgufFile::find_bool(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<bool>(impl_->bool_of(key, *v)) : std::nullopt;
}
std::optional<std::vector<std::string>> GgufFile::find_string_array(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<std::vector<std::string>>(impl_->string_array_of(key, *v)) : std::nullopt;
}
std::optional<std::vector<int64_t>> GgufFile::find_int_array(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<std::vector<int64_t>>(impl_->int_array_of(key, *v)) : std::nullopt;
}
std::optional<std::vector<double>> GgufFile::find_float_array(const std::string& key) const {
  const Value* v = impl_->value(key);
  return v ? std::optional<std::vector<double>>(impl_->float_array_of(key, *v)) : std::nullopt;
}

std::string GgufFile::architecture() const { return get_string("general.architecture"); }

const std::vector<GgufTensorInfo>& GgufFile::tensors() const { return impl_->tensors; }

const GgufTensorInfo* GgufFile::find(const std::string& name) const {
  auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

const GgufTensorInfo& GgufFile::at(const std::string& name) const {
  const GgufTensorInfo* t = find(name);
  if (!t)
    fail<FormatError>("'{}' has no tensor '{}' (the file is incomplete or of another architecture)",
                      impl_->label, name);
  return *t;
}

void GgufFile::dequantize(const GgufTensorInfo& t, float* out) const {
  BREADTH_CHECK_ARG(out != nullptr || t.numel() == 0, "GgufFile::dequantize: `out` is null");
  io::dequantize(t.type, t.data, out, t.numel());
}

}  // namespace breadth::io
