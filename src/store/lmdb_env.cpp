#include "peat/store/lmdb_env.hpp"

#include <lmdb.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

namespace peat::store {

namespace {

Error lmdb_error(int rc, std::string_view what) {
  std::string code = "STORE_ERROR";
  if (rc == MDB_MAP_FULL) code = "MAP_FULL";
  if (rc == MDB_NOTFOUND) code = "NOT_FOUND";
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) code = "STORE_CORRUPTED";
  return make_error(code, std::string(what) + ": " + mdb_strerror(rc));
}

MDB_val to_val(ByteView v) {
  MDB_val out;
  out.mv_size = v.size();
  out.mv_data = const_cast<std::uint8_t*>(v.data());
  return out;
}

ByteView from_val(const MDB_val& v) {
  return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size};
}

bool has_prefix(ByteView key, ByteView prefix) {
  return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

bool less_than(ByteView a, ByteView b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// Owns an MDB_cursor for one scan.
class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi, int* rc) { *rc = mdb_cursor_open(txn, dbi, &cursor_); }
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  MDB_cursor* get() { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace

// ---- Txn ----------------------------------------------------------------------------------

Txn::~Txn() {
  if (txn_ != nullptr) mdb_txn_abort(static_cast<MDB_txn*>(txn_));
}

Result<std::optional<ByteView>> Txn::get(Db db, ByteView key) const {
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(static_cast<MDB_txn*>(txn_), db.dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<ByteView>{};
  if (rc != 0) return lmdb_error(rc, "get");
  return std::optional<ByteView>{from_val(v)};
}

Status Txn::put(Db db, ByteView key, ByteView value) {
  if (read_only_) return make_error("READ_ONLY", "put in a read-only transaction");
  if (key.empty()) return make_error("INVALID_KEY", "empty key");
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(static_cast<MDB_txn*>(txn_), db.dbi, &k, &v, 0);
  if (rc == MDB_MAP_FULL) map_full_ = true;
  if (rc != 0) return lmdb_error(rc, "put");
  return {};
}

Result<bool> Txn::del(Db db, ByteView key) {
  if (read_only_) return make_error("READ_ONLY", "delete in a read-only transaction");
  MDB_val k = to_val(key);
  int rc = mdb_del(static_cast<MDB_txn*>(txn_), db.dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc == MDB_MAP_FULL) map_full_ = true;
  if (rc != 0) return lmdb_error(rc, "delete");
  return true;
}

Status Txn::scan_prefix(Db db, ByteView prefix,
                        const std::function<bool(ByteView, ByteView)>& fn) const {
  return scan_range(db, prefix, {}, [&](ByteView k, ByteView v) {
    if (!has_prefix(k, prefix)) return false;
    return fn(k, v);
  });
}

Status Txn::scan_range(Db db, ByteView from, ByteView to,
                       const std::function<bool(ByteView, ByteView)>& fn) const {
  int rc = 0;
  Cursor cursor(static_cast<MDB_txn*>(txn_), db.dbi, &rc);
  if (rc != 0) return lmdb_error(rc, "cursor");
  MDB_val k = to_val(from);
  MDB_val v;
  rc = from.empty() ? mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST)
                    : mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
  while (rc == 0) {
    ByteView key = from_val(k);
    if (!to.empty() && !less_than(key, to)) break;
    if (!fn(key, from_val(v))) break;
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc, "scan");
  return {};
}

Result<std::size_t> Txn::count(Db db) const {
  MDB_stat st;
  int rc = mdb_stat(static_cast<MDB_txn*>(txn_), db.dbi, &st);
  if (rc != 0) return lmdb_error(rc, "stat");
  return static_cast<std::size_t>(st.ms_entries);
}

// ---- Env ----------------------------------------------------------------------------------

struct Env::Impl {
  MDB_env* env = nullptr;
  std::string path;
  EnvOptions options;
  std::size_t map_size = 0;
  unsigned grows = 0;
  std::mutex write_mu;                  // one writer in this process
  mutable std::shared_mutex resize_mu;  // shared: any txn; unique: mdb_env_set_mapsize
  std::mutex db_mu;

  ~Impl() {
    if (env != nullptr) mdb_env_close(env);
  }

  // Adopts a map size grown by another process (MDB_MAP_RESIZED).
  void adopt_resize() {
    std::unique_lock lock(resize_mu);
    mdb_env_set_mapsize(env, 0);
    MDB_envinfo info;
    if (mdb_env_info(env, &info) == 0) map_size = info.me_mapsize;
  }
};

Env::Env(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Env::~Env() = default;

Result<std::unique_ptr<Env>> Env::open(const std::string& dir, EnvOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("STORE_OPEN_FAILED", "cannot create " + dir + ": " + ec.message());
  auto impl = std::make_unique<Impl>();
  impl->path = dir;
  impl->options = options;
  int rc = mdb_env_create(&impl->env);
  if (rc != 0) return lmdb_error(rc, "mdb_env_create");
  options.map_size = std::max<std::size_t>(options.map_size, std::size_t{1} << 20);
  rc = mdb_env_set_mapsize(impl->env, options.map_size);
  if (rc != 0) return lmdb_error(rc, "mdb_env_set_mapsize");
  rc = mdb_env_set_maxdbs(impl->env, options.max_dbs);
  if (rc != 0) return lmdb_error(rc, "mdb_env_set_maxdbs");
  unsigned flags = MDB_NOTLS;
  if (!options.durable) flags |= MDB_NOSYNC;
  rc = mdb_env_open(impl->env, dir.c_str(), flags, 0644);
  if (rc != 0) return lmdb_error(rc, "mdb_env_open " + dir);
  MDB_envinfo info;
  rc = mdb_env_info(impl->env, &info);
  if (rc != 0) return lmdb_error(rc, "mdb_env_info");
  // An existing environment may already be larger than requested.
  impl->map_size = info.me_mapsize;
  return std::unique_ptr<Env>(new Env(std::move(impl)));
}

Result<Db> Env::open_db(std::string_view name) {
  std::lock_guard db_lock(impl_->db_mu);
  std::lock_guard wlock(impl_->write_mu);
  std::shared_lock rlock(impl_->resize_mu);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(impl_->env, nullptr, 0, &txn);
  if (rc == MDB_MAP_RESIZED) {
    rlock.unlock();
    impl_->adopt_resize();
    rlock.lock();
    rc = mdb_txn_begin(impl_->env, nullptr, 0, &txn);
  }
  if (rc != 0) return lmdb_error(rc, "begin");
  MDB_dbi dbi = 0;
  std::string n(name);
  rc = mdb_dbi_open(txn, n.c_str(), MDB_CREATE, &dbi);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return lmdb_error(rc, "open database " + n);
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return lmdb_error(rc, "commit open database " + n);
  return Db{dbi};
}

Status Env::write(const std::function<Status(Txn&)>& fn) {
  std::lock_guard wlock(impl_->write_mu);
  // Each growth doubles the map, so this bound covers 1 MiB .. 2^64.
  for (int attempt = 0; attempt < 64; ++attempt) {
    bool map_full = false;
    {
      std::shared_lock rlock(impl_->resize_mu);
      MDB_txn* raw = nullptr;
      int rc = mdb_txn_begin(impl_->env, nullptr, 0, &raw);
      if (rc == MDB_MAP_RESIZED) {
        rlock.unlock();
        impl_->adopt_resize();
        continue;
      }
      if (rc != 0) return lmdb_error(rc, "begin write");
      Txn txn(raw, false);
      Status st = fn(txn);
      if (!st.ok()) {
        if (!txn.map_full_) return st;  // ~Txn aborts
        map_full = true;
      } else {
        txn.txn_ = nullptr;
        rc = mdb_txn_commit(raw);  // frees the txn, even on failure
        if (rc == 0) return {};
        if (rc != MDB_MAP_FULL) return lmdb_error(rc, "commit");
        map_full = true;
      }
    }
    if (map_full) {
      std::unique_lock lock(impl_->resize_mu);
      if (impl_->map_size >= impl_->options.max_map_size) {
        return make_error("MAP_FULL", "database reached its maximum size of " +
                                          std::to_string(impl_->options.max_map_size) + " bytes");
      }
      std::size_t next = std::min(impl_->map_size * 2, impl_->options.max_map_size);
      int rc = mdb_env_set_mapsize(impl_->env, next);
      if (rc != 0) return lmdb_error(rc, "grow map");
      impl_->map_size = next;
      ++impl_->grows;
    }
  }
  return make_error("MAP_FULL", "write did not fit after repeated growth");
}

Status Env::read(const std::function<Status(const Txn&)>& fn) const {
  std::shared_lock rlock(impl_->resize_mu);
  MDB_txn* raw = nullptr;
  int rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &raw);
  if (rc == MDB_MAP_RESIZED) {
    rlock.unlock();
    impl_->adopt_resize();
    rlock.lock();
    rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &raw);
  }
  if (rc != 0) return lmdb_error(rc, "begin read");
  Txn txn(raw, true);
  return fn(txn);
}

std::size_t Env::map_size() const {
  std::shared_lock lock(impl_->resize_mu);
  return impl_->map_size;
}

unsigned Env::grow_count() const {
  std::shared_lock lock(impl_->resize_mu);
  return impl_->grows;
}

const std::string& Env::path() const {
  return impl_->path;
}

Status Env::sync() {
  int rc = mdb_env_sync(impl_->env, 1);
  if (rc != 0) return lmdb_error(rc, "sync");
  return {};
}

}  // namespace peat::store
