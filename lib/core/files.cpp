// POSIX implementations of core/files.hpp (no std::filesystem: see the header).
#include "core/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/check.hpp"

namespace breadth::files {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || (!name.empty() && name.front() == '/')) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void make_dirs(const std::string& dir) {
  BREADTH_CHECK_ARG(!dir.empty(), "empty folder name");
  size_t pos = 0;
  while (pos != std::string::npos) {
    const size_t next = dir.find('/', pos + 1);
    const std::string cur = dir.substr(0, next);
    if (!cur.empty() && cur != "/" && ::mkdir(cur.c_str(), 0777) != 0 && errno != EEXIST)
      fail<IoError>("cannot create folder '{}': {}", cur, std::strerror(errno));
    pos = next;
  }
  if (!is_directory(dir)) fail<IoError>("'{}' exists but is not a folder", dir);
}

bool remove_tree(const std::string& path) {
  ::nftw(
      path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0;
}

bool remove_file(const std::string& path) {
  ::remove(path.c_str());
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0;
}

void move_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    fail<IoError>("cannot move '{}' to '{}': {}", from, to, std::strerror(errno));
}

std::optional<std::string> try_read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

std::string read_file(const std::string& path) {
  auto bytes = try_read_file(path);
  if (!bytes) fail<IoError>("cannot read '{}': {}", path, std::strerror(errno));
  return std::move(*bytes);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail<IoError>("cannot write '{}': {}", path, std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail<IoError>("cannot write '{}'", path);
}

namespace {
void write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int err = errno;
      ::close(fd);
      fail<IoError>("cannot write '{}': {}", path, std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail<IoError>("cannot write '{}': {}", tmp, std::strerror(errno));
  write_all(fd, bytes, tmp);
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail<IoError>("cannot write '{}': {}", tmp, std::strerror(errno));
  move_file(tmp, path);
}

void append_durably(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail<IoError>("cannot append to '{}': {}; check that the folder exists and is writable", path,
                            std::strerror(errno));
  write_all(fd, bytes, path);
  if (::fdatasync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail<IoError>("cannot flush '{}' to disk: {}", path, std::strerror(err));
  }
  ::close(fd);
}

void copy_file(const std::string& from, const std::string& to) { write_file(to, read_file(from)); }

void copy_tree(const std::string& from, const std::string& to) {
  if (!is_directory(from)) {
    copy_file(from, to);
    return;
  }
  make_dirs(to);
  for (const auto& name : list_dir(from)) copy_tree(join(from, name), join(to, name));
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail<IoError>("cannot examine '{}': {}", path, std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

void resize_file(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    fail<IoError>("cannot resize '{}': {}", path, std::strerror(errno));
}

std::vector<std::string> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) fail<IoError>("cannot open folder '{}': {}", dir, std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string temp_dir() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? std::string(t) : std::string("/tmp");
}

}  // namespace breadth::files
