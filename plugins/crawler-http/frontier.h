// The persistent crawl frontier in the node's own SQLite file (state_path):
// which crawl runs exist and, per run, every URL seen with its state.
// Never replicated: it is this node's work state (DESIGN §6).
//
// Tables (schema version 2, PRAGMA user_version; version 1 files are migrated):
//   crawl_runs(session_key PK, seeds_json, state running|stopped|finished|failed,
//              started_at_us, finished_at_us, pages, images, images_unchanged, bytes)
//   frontier(id PK, session_key, url, kind page|image|sitemap|stylesheet, depth, source_url,
//            state queued|done|failed|skipped, reason, detail,
//            http_status, attempts, bytes, final_url       -- the fetch status record (v2)
//            ; UNIQUE(session_key, url))
// A URL is in the frontier once per run, so it is fetched once per run.
// Entries still `queued` when a run stops or crashes are fetched on resume.
//
// Thread-safety: one Frontier is used by one thread at a time (the crawl
// thread); SQLite serializes access from other processes (WAL, busy timeout).
// Every method throws kestrel::Error(KESTREL_ERR_IO, "<path>: <what>: <sqlite message>")
// on failure.
#ifndef KESTREL_CRAWLER_HTTP_FRONTIER_H_
#define KESTREL_CRAWLER_HTTP_FRONTIER_H_

#include "scheduler.h"

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kestrel::crawler {

// Counters of a run that the frontier table cannot recount.
struct RunCounters {
  uint64_t pages = 0;             // HTML pages fetched and parsed
  uint64_t images = 0;            // images stored (new or changed)
  uint64_t images_unchanged = 0;  // images already catalogued with the same content
  uint64_t bytes = 0;             // body bytes received, after decoding
};

// A crawl_runs row.
struct RunRow {
  std::string session_key;
  std::string seeds_json;
  std::string state;          // running | stopped | finished | failed
  int64_t started_at_us = 0;  // UTC microseconds
  RunCounters counters;
};

// A frontier row that failed, for the report.
struct FailedRow {
  std::string url;
  std::string source_url;
  std::string reason;  // kind, e.g. "http_404"
  std::string detail;  // human text
};

// What the last request for a frontier entry got: its status record.
struct FetchRecord {
  long http_status = 0;   // status of the last response (after redirects), 0 if none
  uint32_t attempts = 0;  // requests made for the entry in this run, retries included
  uint64_t bytes = 0;     // body bytes received by the last attempt, after decoding
  std::string final_url;  // URL after redirects ("" if no response)
};

class Frontier {
 public:
  // Opens (creating if needed) the SQLite file at `path` (absolute) in WAL
  // mode and creates the tables. Throws Error(KESTREL_ERR_IO) naming the path.
  explicit Frontier(const std::string& path);
  Frontier(const Frontier&) = delete;
  Frontier& operator=(const Frontier&) = delete;
  ~Frontier();

  const std::string& path() const { return path_; }

  // The most recent run with exactly these seeds that did not finish
  // (state running, stopped or failed), or nullopt.
  std::optional<RunRow> find_unfinished(const std::string& seeds_json);
  // Inserts a new run in state "running".
  void create_run(const std::string& session_key, const std::string& seeds_json, int64_t started_at_us);
  // Sets a run's state, counters and finish time (0 while running).
  void update_run(const std::string& session_key, const std::string& state, const RunCounters& counters,
                  int64_t finished_at_us);

  // Group commit. While batching, every write joins one SQLite transaction,
  // begun by the first write and ended by commit_pending(): one lock, one set
  // of WAL frames for many writes instead of one per write. Safe because the
  // engine never records a URL as done before its data is committed elsewhere
  // (catalog, blob store): what a crash loses from an uncommitted batch is
  // only fetched again on resume.
  void set_batching(bool on);
  // Commits the open batch transaction, if any (a no-op otherwise).
  void commit_pending();
  // Rolls the open batch transaction back, if any. Never throws.
  void rollback_pending() noexcept;

  // RAII transaction (BEGIN IMMEDIATE ... COMMIT; a SAVEPOINT inside a
  // batch); rolls back unless committed.
  class Transaction {
   public:
    explicit Transaction(Frontier& f);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

   private:
    Frontier& f_;
    bool open_ = true;
    bool savepoint_ = false;
  };

  // Queues `url` unless the run already has it. Returns true when added.
  bool add(const std::string& session_key, const std::string& url, UrlKind kind, uint32_t depth,
           const std::string& source_url);
  // Records `url` in `state` (queued, or skipped|failed when it is settled
  // without a fetch, with its reason and detail) unless the run already has
  // it. True when added.
  bool add_settled(const std::string& session_key, const std::string& url, UrlKind kind, uint32_t depth,
                   const std::string& source_url, const char* state, const std::string& reason,
                   const std::string& detail);
  // Sets the outcome of entry `id`: state done|failed|skipped, reason (a
  // kind such as "http_404", "" when done), detail (human text).
  void set_state(int64_t id, const char* state, const std::string& reason, const std::string& detail);

  // Records the outcome of a request for entry `id` (every attempt overwrites it).
  void record_fetch(int64_t id, const FetchRecord& record);

  // Up to `limit` queued entries with id > after_id, in id order (discovery
  // order, so the crawl is breadth-first). WorkItem::origin is left empty.
  std::vector<WorkItem> load_queued(const std::string& session_key, int64_t after_id, size_t limit);
  // Entries of `kind` that are no longer queued (fetched or given up).
  uint64_t count_settled(const std::string& session_key, UrlKind kind);
  // A run's counters recounted from its entries (pages and images done,
  // unchanged images, bytes of the last attempt of each): exact after a crash,
  // unlike crawl_runs' copy, which is only as fresh as the last checkpoint.
  RunCounters recount(const std::string& session_key);
  // Entries still queued.
  uint64_t count_queued(const std::string& session_key);
  // state -> reason -> count, for states failed and skipped.
  std::map<std::string, std::map<std::string, uint64_t>> count_reasons(const std::string& session_key);
  // Up to `limit` failed entries in id order.
  std::vector<FailedRow> failed(const std::string& session_key, size_t limit);

 private:
  struct StmtCloser {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;
  struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };

  [[noreturn]] void fail(const std::string& what) const;
  void exec(const char* sql);
  sqlite3_stmt* prepare(Stmt& slot, const char* sql);  // cached per slot; reset before use
  void step_done(sqlite3_stmt* s, const char* what);
  // Begins the batch transaction before a write, when batching and none is open.
  void write_begin();

  std::string path_;
  std::unique_ptr<sqlite3, DbCloser> db_;
  bool batching_ = false;
  bool in_batch_tx_ = false;
  Stmt add_, set_state_, load_, settled_, queued_, record_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_FRONTIER_H_
