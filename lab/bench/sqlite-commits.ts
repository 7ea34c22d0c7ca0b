/**
 * What SQLite alone costs for the three commits of one atomic write
 * (`node dist/lab/bench/sqlite-commits.js [N] [PAGE_SIZE] [STYLE]`): a fresh config.db in a temp
 * directory under /var/tmp (a disk, as /var/lib/pve-cluster is), WAL and synchronous=NORMAL as both
 * daemons run it, then N times, one transaction each, with the version row written in every one:
 *   1. the tmp file's row inserted (no data);
 *   2. the tmp row rewritten with 1 KiB of data;
 *   3. the target's old row deleted and the tmp row rewritten under the target's name.
 * STYLE `replace` uses the reference's statements (INSERT for a new inode, REPLACE otherwise),
 * `store` the UPDATE-then-INSERT of SqliteTreeStore. Prints one JSON line: wall and CPU (user,
 * system) per atomic write. No FUSE, no tree, no daemon: the floor every implementation that
 * commits each operation before it answers pays per atomic write, whatever language drives it
 * (lab/compat/sqlite-commits.c runs the same with the system's libsqlite3, the reference's).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { TREE_TABLE_SQL } from '../../src/memdb/sqlite-store';

const n = Math.max(100, Number(process.argv[2] ?? '5000'));
const pageSize = Number(process.argv[3] ?? '512');
const style = process.argv[4] === 'store' ? 'store' : 'replace';
const TARGETS = 50; // distinct file names, so the table holds a realistic handful of rows
const MTIME = 1_700_000_000;

const dir = fs.mkdtempSync(path.join(fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir(), 'sqlite-commits-'));
const db = new Database(path.join(dir, 'config.db'));
db.pragma(`page_size = ${pageSize}`);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(TREE_TABLE_SQL);

const columns = '(inode, parent, version, writer, mtime, type, name, data)';
const insert = db.prepare(`INSERT INTO tree ${columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
const replace = db.prepare(`REPLACE INTO tree ${columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
const update = db.prepare(
  'UPDATE tree SET parent = ?, version = ?, writer = ?, mtime = ?, type = ?, name = ?, data = ? WHERE inode = ?',
);
const remove = db.prepare('DELETE FROM tree WHERE inode = ?');
const begin = db.prepare('BEGIN');
const commit = db.prepare('COMMIT');

let version = 1;
function writeRow(inode: number, parent: number, type: number, name: string, data: Buffer | null, isNew: boolean): void {
  if (style === 'replace') {
    (isNew ? insert : replace).run(inode, parent, version, 1, MTIME, type, name, data);
    return;
  }
  if (update.run(parent, version, 1, MTIME, type, name, data, inode).changes === 0) {
    insert.run(inode, parent, version, 1, MTIME, type, name, data);
  }
}
function transaction(body: () => void): void {
  version++;
  begin.run();
  body();
  writeRow(0, 0, 8, '__version__', null, false);
  commit.run();
}

const DT_DIR = 4;
const DT_REG = 8;
const data = Buffer.alloc(1024, 0x78);
transaction(() => writeRow(1, 0, DT_DIR, 'dir', null, true));
const target = new Array<number>(TARGETS).fill(0);
let nextInode = 100;
function atomicWrite(i: number): void {
  const k = i % TARGETS;
  const inode = nextInode++;
  transaction(() => writeRow(inode, 1, DT_REG, `.f${k}.tmp`, null, true));
  transaction(() => writeRow(inode, 1, DT_REG, `.f${k}.tmp`, data, false));
  transaction(() => {
    if (target[k] !== 0) remove.run(target[k]);
    writeRow(inode, 1, DT_REG, `f${k}`, data, false);
  });
  target[k] = inode;
}

for (let i = 0; i < n; i++) atomicWrite(i); // warm-up: JIT, page cache, WAL file
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) atomicWrite(i);
const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
const cpu = process.cpuUsage(cpu0);
const sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
db.close();
fs.rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ sqlite: sqliteVersion, style, pageSize, atomicWrites: n, wallUsPerWrite: wallUs / n, userUsPerWrite: cpu.user / n, systemUsPerWrite: cpu.system / n })}\n`,
);
