#include "io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <limits>

#include "core/check.hpp"

namespace breadth::io {

namespace {

struct DTypeInfo {
  const char* name;
  DType dtype;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {"F64", DType::F64, 8}, {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2},
    {"I64", DType::I64, 8}, {"I32", DType::I32, 4}, {"I16", DType::I16, 2}, {"I8", DType::I8, 1},
    {"U8", DType::U8, 1},   {"BOOL", DType::BOOL, 1},
};

}  // namespace

size_t dtype_size(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i.size;
  return 0;
}

const char* dtype_name(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i.name;
  return "?";
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_shared<MappedFile>(path)), label_(path) {
  parse(file_->data(), file_->size());
}

SafetensorsFile::SafetensorsFile(const uint8_t* data, size_t size, std::string label)
    : label_(std::move(label)) {
  parse(data, size);
}

void SafetensorsFile::parse(const uint8_t* data, size_t size) {
  BREADTH_CHECK_FORMAT(size >= 8, "'{}' is not a safetensors file: {} bytes, too short for a header",
                       label_, size);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  BREADTH_CHECK_FORMAT(header_len <= size - 8,
                       "'{}' is truncated or corrupt: header claims {} bytes, file has {}", label_,
                       header_len, size - 8);
  const char* hbegin = reinterpret_cast<const char*>(data + 8);
  nlohmann::json header = nlohmann::json::parse(hbegin, hbegin + header_len, nullptr, false);
  BREADTH_CHECK_FORMAT(!header.is_discarded() && header.is_object(),
                       "'{}' has a malformed safetensors JSON header", label_);
  const uint8_t* body = data + 8 + header_len;
  const uint64_t body_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (v.is_object())
        for (auto m = v.begin(); m != v.end(); ++m)
          if (m.value().is_string()) metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    BREADTH_CHECK_FORMAT(v.is_object() && v.contains("dtype") && v["dtype"].is_string() &&
                             v.contains("shape") && v["shape"].is_array() &&
                             v.contains("data_offsets") && v["data_offsets"].is_array() &&
                             v["data_offsets"].size() == 2,
                         "'{}': tensor '{}' has a malformed entry in the header", label_, name);
    TensorView t;
    t.name = name;
    const std::string dt = v["dtype"].get<std::string>();
    size_t esize = 0;
    for (const auto& i : kDTypes)
      if (dt == i.name) t.dtype = i.dtype, esize = i.size;
    if (esize == 0) fail<Unsupported>("'{}': tensor '{}' has unsupported dtype '{}'", label_, name, dt);
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      BREADTH_CHECK_FORMAT(d.is_number_unsigned(), "'{}': tensor '{}' has a non-integer dimension",
                           label_, name);
      uint64_t dim = d.get<uint64_t>();
      // A dimension must fit the int64 shape even when another dimension is 0.
      BREADTH_CHECK_FORMAT(dim <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) &&
                               (dim == 0 || numel <= std::numeric_limits<uint64_t>::max() / 16 / dim),
                           "'{}': tensor '{}' has an absurd shape", label_, name);
      numel *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    BREADTH_CHECK_FORMAT(off[0].is_number_unsigned() && off[1].is_number_unsigned(),
                         "'{}': tensor '{}' has non-integer data offsets", label_, name);
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    BREADTH_CHECK_FORMAT(begin <= end && end <= body_size,
                         "'{}' is truncated or corrupt: tensor '{}' spans bytes [{}, {}) of a {}-byte "
                         "data section",
                         label_, name, begin, end, body_size);
    BREADTH_CHECK_FORMAT(end - begin == numel * esize,
                         "'{}': tensor '{}' has {} bytes but shape and dtype need {}", label_, name,
                         end - begin, numel * esize);
    t.data = body + begin;
    t.nbytes = end - begin;
    tensors_.emplace(name, std::move(t));
  }
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView& SafetensorsFile::at(const std::string& name) const {
  const TensorView* t = find(name);
  if (!t) fail<FormatError>("'{}' has no tensor '{}' (the checkpoint is incomplete or of another architecture)", label_, name);
  return *t;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    uint64_t numel = 1;
    for (auto s : t.shape) numel *= static_cast<uint64_t>(s);
    BREADTH_CHECK_ARG(numel * dtype_size(t.dtype) == t.nbytes,
                      "write_safetensors: tensor '{}' has {} bytes, its shape needs {}", t.name,
                      t.nbytes, numel * dtype_size(t.dtype));
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail<IoError>("cannot write '{}'; check that the folder exists and is writable", path);
  uint64_t n = h.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out.write(len, 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& t : tensors) out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
  if (!out) fail<IoError>("failed writing '{}' (disk full?)", path);
}

}  // namespace breadth::io
