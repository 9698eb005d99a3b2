// A response body as it arrives: kept in memory up to a threshold, then moved
// to an anonymous temporary file, so that memory stays bounded however large
// the body (the body cap, max_body_size, is enforced by Transfer; a hostile
// server's 1 GiB body or gzip bomb costs disk up to that cap, not memory).
//
// The file is created with O_TMPFILE (an inode without a name: it disappears
// when the Body is destroyed or the process dies, so a crash leaves nothing
// behind); where the filesystem lacks O_TMPFILE, a mkstemp file unlinked at once.
//
// Threads: one thread at a time (the crawl thread appends, then a worker reads).
#ifndef KESTREL_CRAWLER_HTTP_BODY_H_
#define KESTREL_CRAWLER_HTTP_BODY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace kestrel::crawler {

class Body {
 public:
  // An empty body that stays in memory until it holds more than `spill_at`
  // bytes, then spills to a temporary file in folder `spill_dir` (absolute,
  // must exist). spill_at 0: never spill.
  Body(std::string spill_dir = std::string(), uint64_t spill_at = 0);
  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;
  ~Body();

  // Appends `n` bytes. Throws kestrel::Error (KESTREL_ERR_NO_SPACE on a full
  // disk, KESTREL_ERR_IO otherwise, naming the folder) when spilling fails;
  // the body is then unusable (clear() it).
  void append(const char* data, size_t n);

  uint64_t size() const { return size_; }
  bool spilled() const { return fd_ >= 0; }

  // The first min(n, size()) bytes (a copy). Throws kestrel::Error(KESTREL_ERR_IO) on a read error.
  std::string head(size_t n) const;

  // Calls `fn(data, length)` for consecutive pieces of the body, in order, each
  // at most 256 KiB (memory use stays flat for a spilled body). Throws
  // kestrel::Error(KESTREL_ERR_IO) on a read error; exceptions from fn propagate.
  void for_each_chunk(const std::function<void(const char*, size_t)>& fn) const;

  // The whole body as one contiguous view, valid while the View lives (the
  // memory buffer, or a read-only mmap of the spilled file).
  class View {
   public:
    View() = default;
    View(View&& other) noexcept;
    View& operator=(View&& other) noexcept;
    View(const View&) = delete;
    View& operator=(const View&) = delete;
    ~View();
    std::string_view bytes() const { return bytes_; }

   private:
    friend class Body;
    std::string_view bytes_;
    void* map_ = nullptr;  // owned mmap, or nullptr
    size_t map_length_ = 0;
  };
  // Throws kestrel::Error(KESTREL_ERR_IO) if the spilled file cannot be mapped.
  View view() const;

  // The bytes as a string (a copy of a spilled body: for small kinds only,
  // such as robots.txt, sitemaps and stylesheets, whose caps are small).
  std::string str() const;

  // Back to empty, in memory; frees the buffer and closes the file.
  void clear();

 private:
  void spill();

  std::string spill_dir_;
  uint64_t spill_at_ = 0;
  std::string memory_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_BODY_H_
