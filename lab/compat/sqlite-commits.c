/*
 * lab/bench/sqlite-commits.ts with the system's libsqlite3 (the library the reference links), the
 * reference's statements: the three commits of one atomic write, N times after N of warm-up, in a
 * fresh config.db (WAL, synchronous=NORMAL). Prints one JSON line like the TypeScript version.
 * Not built by the project (its tests never need it):
 *   gcc -O2 -o /tmp/sqlite-commits lab/compat/sqlite-commits.c -lsqlite3    (libsqlite3-dev)
 *   /tmp/sqlite-commits /var/tmp/sc.db [N] [PAGE_SIZE]; rm -f /var/tmp/sc.db*
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define TARGETS 50
#define MTIME 1700000000

static sqlite3 *db;
static sqlite3_stmt *insert_row, *replace_row, *delete_row, *begin_tx, *commit_tx;
static sqlite3_int64 version = 1;

static void check(int rc, const char *what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

static void step(sqlite3_stmt *s, const char *what) {
  check(sqlite3_step(s), what);
  sqlite3_reset(s);
}

static void write_row(sqlite3_int64 inode, sqlite3_int64 parent, int type, const char *name, const void *data, int len, int is_new) {
  sqlite3_stmt *s = is_new ? insert_row : replace_row;
  sqlite3_bind_int64(s, 1, inode);
  sqlite3_bind_int64(s, 2, parent);
  sqlite3_bind_int64(s, 3, version);
  sqlite3_bind_int64(s, 4, 1);
  sqlite3_bind_int64(s, 5, MTIME);
  sqlite3_bind_int64(s, 6, type);
  sqlite3_bind_text(s, 7, name, -1, SQLITE_STATIC);
  if (data != NULL) sqlite3_bind_blob(s, 8, data, len, SQLITE_STATIC);
  else sqlite3_bind_null(s, 8);
  step(s, "write row");
}

static void tx_begin(void) { version++; step(begin_tx, "begin"); }
static void tx_commit(void) { write_row(0, 0, 8, "__version__", NULL, 0, 0); step(commit_tx, "commit"); }

static sqlite3_int64 target[TARGETS];
static sqlite3_int64 next_inode = 100;
static char data[1024];

static void atomic_write(int i) {
  int k = i % TARGETS;
  char tmp[32], name[32];
  snprintf(tmp, sizeof tmp, ".f%d.tmp", k);
  snprintf(name, sizeof name, "f%d", k);
  sqlite3_int64 inode = next_inode++;
  tx_begin(); write_row(inode, 1, 8, tmp, NULL, 0, 1); tx_commit();
  tx_begin(); write_row(inode, 1, 8, tmp, data, sizeof data, 0); tx_commit();
  tx_begin();
  if (target[k] != 0) { sqlite3_bind_int64(delete_row, 1, target[k]); step(delete_row, "delete"); }
  write_row(inode, 1, 8, name, data, sizeof data, 0);
  tx_commit();
  target[k] = inode;
}

static double usecs(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s FILE [N] [PAGE_SIZE]\n", argv[0]); return 2; }
  int n = argc > 2 ? atoi(argv[2]) : 5000;
  int page_size = argc > 3 ? atoi(argv[3]) : 512;
  char sql[64];
  check(sqlite3_open(argv[1], &db), "open");
  snprintf(sql, sizeof sql, "PRAGMA page_size=%d;", page_size);
  check(sqlite3_exec(db, sql, NULL, NULL, NULL), "page_size");
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL), "pragmas");
  check(sqlite3_exec(db,
    "CREATE TABLE IF NOT EXISTS tree (inode INTEGER PRIMARY KEY NOT NULL,"
    " parent INTEGER NOT NULL CHECK(typeof(parent)=='integer'), version INTEGER NOT NULL CHECK(typeof(version)=='integer'),"
    " writer INTEGER NOT NULL CHECK(typeof(writer)=='integer'), mtime INTEGER NOT NULL CHECK(typeof(mtime)=='integer'),"
    " type INTEGER NOT NULL CHECK(typeof(type)=='integer'), name TEXT NOT NULL, data BLOB);", NULL, NULL, NULL), "create");
  check(sqlite3_prepare_v2(db, "INSERT INTO tree (inode, parent, version, writer, mtime, type, name, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);", -1, &insert_row, NULL), "prepare insert");
  check(sqlite3_prepare_v2(db, "REPLACE INTO tree (inode, parent, version, writer, mtime, type, name, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);", -1, &replace_row, NULL), "prepare replace");
  check(sqlite3_prepare_v2(db, "DELETE FROM tree WHERE inode = ?1;", -1, &delete_row, NULL), "prepare delete");
  check(sqlite3_prepare_v2(db, "BEGIN TRANSACTION;", -1, &begin_tx, NULL), "prepare begin");
  check(sqlite3_prepare_v2(db, "COMMIT TRANSACTION;", -1, &commit_tx, NULL), "prepare commit");
  memset(data, 'x', sizeof data);
  tx_begin(); write_row(1, 0, 4, "dir", NULL, 0, 1); tx_commit();
  for (int i = 0; i < n; i++) atomic_write(i);
  struct timespec w0, w1;
  struct rusage r0, r1;
  clock_gettime(CLOCK_MONOTONIC, &w0);
  getrusage(RUSAGE_SELF, &r0);
  for (int i = 0; i < n; i++) atomic_write(i);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  getrusage(RUSAGE_SELF, &r1);
  double wall = (w1.tv_sec - w0.tv_sec) * 1e6 + (w1.tv_nsec - w0.tv_nsec) / 1e3;
  printf("{\"sqlite\":\"%s\",\"style\":\"replace\",\"pageSize\":%d,\"atomicWrites\":%d,\"wallUsPerWrite\":%.1f,\"userUsPerWrite\":%.1f,\"systemUsPerWrite\":%.1f}\n",
         sqlite3_libversion(), page_size, n, wall / n, (usecs(r1.ru_utime) - usecs(r0.ru_utime)) / n, (usecs(r1.ru_stime) - usecs(r0.ru_stime)) / n);
  sqlite3_close(db);
  return 0;
}
