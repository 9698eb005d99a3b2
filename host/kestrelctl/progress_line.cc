#include "kestrelctl/progress_line.h"

#include <cstdio>

namespace kestrel::ctl {
namespace {

uint64_t u64(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o || !o->has(key)) return 0;
  try {
    return o->getValue<Poco::UInt64>(key);
  } catch (const Poco::Exception&) {
    return 0;
  }
}

}  // namespace

CrawlCounters CrawlCounters::from_json(const Poco::JSON::Object::Ptr& status) {
  CrawlCounters c;
  if (status && status->has("state")) c.state = status->getValue<std::string>("state");
  c.pages = u64(status, "pages");
  c.images = u64(status, "images");
  c.bytes = u64(status, "bytes");
  c.errors = u64(status, "errors");
  c.queued = u64(status, "queued");
  c.elapsed_ms = u64(status, "elapsed_ms");
  return c;
}

bool CrawlCounters::operator==(const CrawlCounters& o) const {
  return state == o.state && pages == o.pages && images == o.images && bytes == o.bytes && errors == o.errors &&
         queued == o.queued;
}

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

void ProgressLine::update(const CrawlCounters& c) {
  char line[256];
  const double seconds = static_cast<double>(c.elapsed_ms) / 1000.0;
  if (terminal_) {
    // The frontier grows as pages are parsed, so the bar is "settled so far
    // out of known so far": it can move back, never past full.
    const uint64_t settled = c.pages + c.images + c.errors;
    const uint64_t known = settled + c.queued;
    const int width = 24;
    const int filled = known ? static_cast<int>(width * settled / known) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::snprintf(line, sizeof line, "\r\033[K[%s] %-8s pages %llu  images %llu  %s  errors %llu  %.1f s", bar.c_str(),
                  c.state.c_str(), static_cast<unsigned long long>(c.pages), static_cast<unsigned long long>(c.images),
                  human_bytes(c.bytes).c_str(), static_cast<unsigned long long>(c.errors), seconds);
    out_ << line << std::flush;
    drawn_ = true;
    return;
  }
  if (have_last_ && last_ == c) return;
  std::snprintf(line, sizeof line, "progress: state=%s pages=%llu images=%llu bytes=%llu errors=%llu queued=%llu "
                                   "elapsed=%.1fs",
                c.state.c_str(), static_cast<unsigned long long>(c.pages), static_cast<unsigned long long>(c.images),
                static_cast<unsigned long long>(c.bytes), static_cast<unsigned long long>(c.errors),
                static_cast<unsigned long long>(c.queued), seconds);
  out_ << line << "\n" << std::flush;
  last_ = c;
  have_last_ = true;
}

void ProgressLine::finish() {
  if (terminal_ && drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace kestrel::ctl
