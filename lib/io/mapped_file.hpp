// A read-only memory map of a whole file. Readers of outside formats hand out spans into it and
// check every offset against size() before they touch a byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace breadth::io {

class MappedFile {
 public:
  /// Throws IoError when the file is missing or unreadable.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }

  /// Lets the kernel drop the pages read so far from this process (they stay in the page cache and
  /// come back on the next read). For a file kept open after its contents were copied out, so that
  /// its pages no longer count as this process's resident memory. Never fails: it is advice.
  void release_pages() const noexcept;

  /// True when [offset, offset+length) lies inside the file, without overflow.
  bool contains(uint64_t offset, uint64_t length) const noexcept {
    return offset <= size_ && length <= size_ - offset;
  }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace breadth::io
