// A libFuzzer-compatible driver for builds without libFuzzer (gcc, the ASan/UBSan build): it replays
// seed inputs, then feeds LLVMFuzzerTestOneInput deterministic mutations of them (bit flips,
// interesting bytes, length-field tweaks, truncations, splices, chunk copies) until a time or
// iteration budget runs out. No coverage feedback, so it finds less than libFuzzer does, but it runs
// everywhere as an ordinary test, and under ASan it catches out-of-bounds reads on corrupt input.
//
// usage: fuzz_<name> [--seconds=S] [--max-iters=N] [--seed=N] [--crash-dir=DIR] SEED_FILE_OR_DIR...
//
// Each input is passed in a heap buffer of exactly its size, so a read past the end is an ASan error.
// When an input crashes the target, it is written to DIR/crash-<name>.bin (default: the working
// directory) before the process dies; replay it with `fuzz_<name> crash-<name>.bin`.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

// ------------------------------------------------------------------ crash capture
// The input being run, kept where a signal handler can write it without allocating.
const uint8_t* g_current = nullptr;
size_t g_current_size = 0;
char g_crash_path[4096] = "crash.bin";

void dump_current() {
  if (!g_current) return;
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t off = 0;
    while (off < g_current_size) {
      ssize_t n = ::write(fd, g_current + off, g_current_size - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
    const char msg[] = "\nstandalone fuzz driver: the crashing input was written to ";
    (void)!::write(2, msg, sizeof(msg) - 1);
    (void)!::write(2, g_crash_path, std::strlen(g_crash_path));
    (void)!::write(2, "\n", 1);
  }
  g_current = nullptr;
}

void on_signal(int sig) {
  dump_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run_one(const uint8_t* data, size_t size) {
  // An exactly-sized heap copy: ASan flags any read past the end.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(buf.get(), data, size);
  g_current = buf.get();
  g_current_size = size;
  LLVMFuzzerTestOneInput(buf.get(), size);
  g_current = nullptr;
}

// ------------------------------------------------------------------ deterministic randomness
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

using Bytes = std::vector<uint8_t>;

// Values that tend to break length and count checks.
uint64_t interesting_u64(SplitMix64& r, size_t size) {
  static const uint64_t kFixed[] = {0,
                                    1,
                                    2,
                                    3,
                                    4,
                                    7,
                                    8,
                                    16,
                                    31,
                                    32,
                                    64,
                                    127,
                                    128,
                                    255,
                                    256,
                                    0x7fff,
                                    0x8000,
                                    0xffff,
                                    0x10000,
                                    0x7fffffffull,
                                    0x80000000ull,
                                    0xffffffffull,
                                    0x100000000ull,
                                    0x7fffffffffffffffull,
                                    0x8000000000000000ull,
                                    0xffffffffffffffffull,
                                    0xfffffffffffffff8ull};
  switch (r.below(4)) {
    case 0: return size + r.below(16) - 8;  // near the input size
    case 1: return uint64_t{1} << r.below(64);
    default: return kFixed[r.below(sizeof(kFixed) / sizeof(kFixed[0]))];
  }
}

void mutate(Bytes& b, const std::vector<Bytes>& seeds, SplitMix64& r) {
  const int n_mut = 1 + static_cast<int>(r.below(4));
  for (int m = 0; m < n_mut; ++m) {
    switch (r.below(9)) {
      case 0:  // flip a bit
        if (!b.empty()) b[r.below(b.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1: {  // an interesting byte
        static const uint8_t kBytes[] = {0, 1, 0x7f, 0x80, 0xff, '"', '{', '[', ':', ',', '\\'};
        if (!b.empty()) b[r.below(b.size())] = kBytes[r.below(sizeof(kBytes))];
        break;
      }
      case 2:  // a random byte
        if (!b.empty()) b[r.below(b.size())] = static_cast<uint8_t>(r.next());
        break;
      case 3:
      case 4: {  // a length/count field: overwrite 4 or 8 bytes (often aligned) with a telling value
        const size_t w = r.below(2) ? 8 : 4;
        if (b.size() < w) break;
        size_t at = r.below(b.size() - w + 1);
        if (r.below(2)) at &= ~(w - 1);
        uint64_t v = interesting_u64(r, b.size());
        if (r.below(4) == 0) {  // or nudge the value already there
          uint64_t old = 0;
          std::memcpy(&old, &b[at], w);
          v = old + r.below(9) - 4;
        }
        std::memcpy(&b[at], &v, w);
        break;
      }
      case 5:  // truncate
        if (!b.empty()) b.resize(r.below(b.size()));
        break;
      case 6: {  // splice: a prefix of this input, a suffix of another seed
        const Bytes& o = seeds[r.below(seeds.size())];
        if (o.empty()) break;
        const size_t cut = r.below(b.size() + 1), from = r.below(o.size());
        b.resize(cut);
        b.insert(b.end(), o.begin() + static_cast<std::ptrdiff_t>(from), o.end());
        break;
      }
      case 7: {  // copy a chunk to another place (or insert it)
        if (b.size() < 2) break;
        const size_t len = 1 + r.below(std::min<size_t>(64, b.size() - 1));
        const size_t src = r.below(b.size() - len + 1);
        Bytes chunk(b.begin() + static_cast<std::ptrdiff_t>(src), b.begin() + static_cast<std::ptrdiff_t>(src + len));
        const size_t dst = r.below(b.size() + 1);
        if (r.below(2))
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(dst), chunk.begin(), chunk.end());
        else
          for (size_t i = 0; i < len && dst + i < b.size(); ++i) b[dst + i] = chunk[i];
        break;
      }
      default: {  // erase a chunk
        if (b.empty()) break;
        const size_t at = r.below(b.size());
        const size_t len = 1 + r.below(std::min<size_t>(32, b.size() - at));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len));
        break;
      }
    }
  }
}

bool read_file(const std::string& p, Bytes* out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  double seconds = 5;
  uint64_t max_iters = UINT64_MAX, seed = 1;
  std::string crash_dir = ".";
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) seconds = std::atof(a.c_str() + 10);
    else if (a.rfind("--max-iters=", 0) == 0) max_iters = std::strtoull(a.c_str() + 12, nullptr, 10);
    else if (a.rfind("--seed=", 0) == 0) seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    else if (a.rfind("--crash-dir=", 0) == 0) crash_dir = a.substr(12);
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    } else paths.push_back(a);
  }
  if (const char* env = std::getenv("BREADTH_FUZZ_SECONDS")) seconds = std::atof(env);

  std::string name = argv[0];
  name = name.substr(name.find_last_of('/') + 1);  // the executable's file name (npos + 1 == 0)
  std::snprintf(g_crash_path, sizeof(g_crash_path), "%s/crash-%s.bin", crash_dir.c_str(), name.c_str());
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(dump_current);

  // Seeds: files, or every regular file of a folder, in name order (deterministic).
  std::vector<Bytes> seeds;
  std::vector<std::string> names;
  for (const auto& p : paths) {
    std::vector<std::string> files;
    if (breadth::files::is_directory(p)) {
      for (const auto& entry : breadth::files::list_dir(p))  // sorted by name
        if (breadth::files::is_regular_file(breadth::files::join(p, entry)))
          files.push_back(breadth::files::join(p, entry));
    } else {
      files.emplace_back(p);
    }
    for (const auto& f : files) {
      Bytes b;
      if (!read_file(f, &b)) {
        std::fprintf(stderr, "cannot read seed %s\n", f.c_str());
        return 2;
      }
      seeds.push_back(std::move(b));
      names.push_back(f);
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "%s: no seed inputs (pass seed files or folders; is the seed fixture built?)\n",
                 name.c_str());
    return 2;
  }

  for (const auto& s : seeds) run_one(s.data(), s.size());
  run_one(nullptr, 0);

  SplitMix64 rng{seed};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  uint64_t iters = 0;
  Bytes b;
  while (iters < max_iters && std::chrono::steady_clock::now() < deadline) {
    for (int k = 0; k < 64 && iters < max_iters; ++k, ++iters) {
      b = seeds[rng.below(seeds.size())];
      mutate(b, seeds, rng);
      // Sometimes keep mutating the same input: deeper changes.
      if (rng.below(4) == 0) mutate(b, seeds, rng);
      run_one(b.data(), b.size());
    }
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu seeds replayed, %llu mutated inputs in %.1f s, no crash\n", name.c_str(),
              seeds.size(), static_cast<unsigned long long>(iters), took);
  return 0;
}
