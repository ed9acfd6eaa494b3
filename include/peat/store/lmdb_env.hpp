// LMDB environment wrapper: one directory, named sub-databases, RAII transactions.
// Durable by default (every commit is fsync'ed). A write that hits MDB_MAP_FULL is aborted, the
// map is doubled (up to max_map_size) and the whole write function runs again, so write functions
// must only touch the database (or be safe to repeat). Opened with MDB_NOTLS: read transactions
// may move between threads. Thread-safe; one writer at a time. LMDB allows one open Env per
// directory per process; do not nest read()/write() calls on the same thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::store {

struct EnvOptions {
  std::size_t map_size = std::size_t{1} << 30;      // initial map (address space, not disk)
  std::size_t max_map_size = std::size_t{1} << 40;  // growth stops here ("MAP_FULL")
  unsigned max_dbs = 32;
  bool durable = true;  // false: MDB_NOSYNC (fast, may lose the last commits on power loss)
};

// Handle of a named sub-database (valid for the life of its Env).
struct Db {
  unsigned dbi = 0;
};

class Env;

// A transaction. Read-only transactions reject writes with "READ_ONLY".
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();

  // The value stays valid until the transaction ends.
  Result<std::optional<ByteView>> get(Db db, ByteView key) const;
  Status put(Db db, ByteView key, ByteView value);
  // Returns whether the key existed.
  Result<bool> del(Db db, ByteView key);
  // Calls fn(key, value) for every key starting with prefix, in byte order, until fn returns false.
  Status scan_prefix(Db db, ByteView prefix,
                     const std::function<bool(ByteView key, ByteView value)>& fn) const;
  // Calls fn for keys in [from, to) (to empty = no upper limit), until fn returns false.
  Status scan_range(Db db, ByteView from, ByteView to,
                    const std::function<bool(ByteView key, ByteView value)>& fn) const;
  Result<std::size_t> count(Db db) const;
  bool read_only() const { return read_only_; }

 private:
  friend class Env;
  Txn(void* txn, bool read_only) : txn_(txn), read_only_(read_only) {}
  void* txn_;  // MDB_txn*
  bool read_only_;
  bool map_full_ = false;  // set when a put failed with MDB_MAP_FULL
};

class Env {
 public:
  // Opens (creating if missing) the environment in directory `dir`.
  static Result<std::unique_ptr<Env>> open(const std::string& dir, EnvOptions options = {});
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // Opens or creates a named sub-database.
  Result<Db> open_db(std::string_view name);

  // Runs fn in a write transaction and commits if it returns ok (aborts otherwise).
  // On MDB_MAP_FULL: aborts, grows the map, runs fn again (bounded by max_map_size).
  Status write(const std::function<Status(Txn&)>& fn);
  // Runs fn in a read-only snapshot.
  Status read(const std::function<Status(const Txn&)>& fn) const;

  std::size_t map_size() const;
  // Number of times the map has grown since open (for tests and metrics).
  unsigned grow_count() const;
  const std::string& path() const;
  // Forces buffered data to disk (only useful when durable = false).
  Status sync();

 private:
  struct Impl;
  explicit Env(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::store
