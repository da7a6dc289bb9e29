// File-system helpers on POSIX calls, for every component, the CLI and the tests.
//
// Why not std::filesystem: libtorch.so exports its own copies of the std::filesystem functions
// (status, exists, create_directories, copy, remove_all, ...). Whichever copy the dynamic linker
// binds first serves every caller in the process, and libtorch's remove_all crashes through a null
// pointer on a non-empty directory. Plain POSIX calls cannot be interposed that way, so breadth
// touches the file system only through these.
//
// Paths are plain strings; `/` is the separator (breadth runs on POSIX systems only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace breadth::files {

/// True when `path` names something (stat(2), following symlinks); false when it does not or cannot
/// be examined.
bool exists(const std::string& path);
/// True when `path` is a directory (following symlinks).
bool is_directory(const std::string& path);
/// True when `path` is a regular file (following symlinks).
bool is_regular_file(const std::string& path);

/// `dir/name`, with no doubled separator when `dir` ends in '/'; `name` alone when `dir` is empty
/// or `name` is absolute (as std::filesystem::path's operator/ does).
std::string join(const std::string& dir, const std::string& name);
/// Everything before the last '/' ("/" for a file in the root); empty when `path` has no '/'.
std::string parent(const std::string& path);

/// mkdir -p: creates `dir` and its missing parents. Throws IoError naming the folder that could not
/// be created, or `dir` when it exists but is not a directory.
void make_dirs(const std::string& dir);
/// rm -rf: removes `path` and, for a directory, everything under it (symlinks are removed, not
/// followed). Returns true when nothing is left there, also when nothing was there to begin with.
bool remove_tree(const std::string& path);
/// Removes one file (or empty directory); true when it is gone afterwards.
bool remove_file(const std::string& path);
/// rename(2), atomic within a file system. Throws IoError naming both paths.
void move_file(const std::string& from, const std::string& to);

/// The whole file as bytes. Throws IoError naming `path` when it cannot be opened or read.
std::string read_file(const std::string& path);
/// The whole file as bytes, or nullopt when it cannot be opened or read: for callers whose error
/// message says more than the path (what the file was for, what to do).
std::optional<std::string> try_read_file(const std::string& path);
/// Writes `bytes` to `path`, replacing it. Throws IoError naming `path`.
void write_file(const std::string& path, const std::string& bytes);
/// Writes `bytes` so that `path` holds either its old content or all of the new one, never a part:
/// a temporary file beside it, fsync(2), then rename(2). Throws IoError naming `path`.
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Appends `bytes` to `path` (created when missing) and fdatasync(2)s it before returning, so that
/// what a caller committed survives a crash or power loss. Throws IoError naming `path`.
void append_durably(const std::string& path, const std::string& bytes);
/// Copies one regular file's bytes, replacing `to`. Throws IoError.
void copy_file(const std::string& from, const std::string& to);
/// cp -r: copies the regular files and directories under `from` to `to` (created when missing).
/// Throws IoError.
void copy_tree(const std::string& from, const std::string& to);
/// Size of a regular file in bytes. Throws IoError naming `path`.
uint64_t file_size(const std::string& path);
/// truncate(2): cuts (or zero-extends) a file to `size` bytes. Throws IoError naming `path`.
void resize_file(const std::string& path, uint64_t size);

/// The names in directory `dir` (without "." and ".."), sorted bytewise. Throws IoError when `dir`
/// cannot be opened.
std::vector<std::string> list_dir(const std::string& dir);
/// The system's folder for temporary files: $TMPDIR when set, else /tmp.
std::string temp_dir();

}  // namespace breadth::files
