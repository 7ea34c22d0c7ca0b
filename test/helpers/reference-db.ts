/**
 * config.db compatibility for tests: the fixture databases written by the reference
 * (test/fixtures/reference-db, see its README), their manifests, the tree a mount or a MemDb serves
 * in the same form, and a checker of the reference's load rules written from its loader
 * (database.c bdb_backend_load_index + memdb_open's VMID rebuild), independent of src/.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export const REFERENCE_DB_DIR = resolve(__dirname, '../fixtures/reference-db');

/** The fixture names (`<name>.db` with its `.manifest`, `.vmlist` and `.ops.txt`). */
export function referenceDbNames(): string[] {
  return fs
    .readdirSync(REFERENCE_DB_DIR)
    .filter((f) => f.endsWith('.db'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export interface ManifestEntry {
  type: 'd' | 'f';
  path: string;
  size: number;
  sha256: string;
  mtime: number;
}

/** `type path size sha256 mtime` per line; a path may contain spaces. */
export function parseManifest(text: string): ManifestEntry[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const fields = line.split(' ');
      const type = fields[0] as 'd' | 'f';
      const [size, sha256, mtime] = fields.slice(-3) as [string, string, string];
      return { type, path: fields.slice(1, -3).join(' '), size: Number(size), sha256, mtime: Number(mtime) };
    });
}

export function readFixture(name: string): { db: string; manifest: ManifestEntry[]; vmlist: string; ops: string } {
  const base = join(REFERENCE_DB_DIR, name);
  return {
    db: `${base}.db`,
    manifest: parseManifest(fs.readFileSync(`${base}.manifest`, 'utf8')),
    vmlist: fs.readFileSync(`${base}.vmlist`, 'utf8'),
    ops: fs.readFileSync(`${base}.ops.txt`, 'utf8'),
  };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const byPath = (a: ManifestEntry, b: ManifestEntry): number => (Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));

/** Names at the root of a mount that the manifests leave out: status files and the four symlinks. */
const NOT_IN_MANIFEST = new Set(['.version', '.members', '.vmlist', '.rrd', '.clusterlog', '.debug', 'local', 'qemu-server', 'lxc', 'openvz']);

/** The tree a mount serves, as a manifest (sorted by path in C order). */
export function manifestOfMount(mnt: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (rel: string): void => {
    for (const d of fs.readdirSync(join(mnt, rel), { withFileTypes: true })) {
      if (rel === '' && NOT_IN_MANIFEST.has(d.name)) continue;
      const path = rel === '' ? d.name : `${rel}/${d.name}`;
      const st = fs.lstatSync(join(mnt, path));
      if (st.isDirectory()) {
        out.push({ type: 'd', path, size: 0, sha256: '-', mtime: Math.trunc(st.mtimeMs / 1000) });
        walk(path);
      } else {
        const data = fs.readFileSync(join(mnt, path));
        out.push({ type: 'f', path, size: st.size, sha256: sha256(data), mtime: Math.trunc(st.mtimeMs / 1000) });
      }
    }
  };
  walk('');
  return out.sort(byPath);
}

/** The minimal view of a loaded tree the manifest needs (MemDb satisfies it). */
export interface TreeView {
  entries(): IterableIterator<{ inode: number; type: number; mtime: number; data: Buffer | null }>;
  pathOf(e: { inode: number }): string;
}

export function manifestOfTree(db: TreeView): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const e of db.entries()) {
    if (e.inode === 0) continue;
    const data = e.data ?? Buffer.alloc(0);
    out.push(
      e.type === 4
        ? { type: 'd', path: db.pathOf(e), size: 0, sha256: '-', mtime: e.mtime }
        : { type: 'f', path: db.pathOf(e), size: data.length, sha256: sha256(data), mtime: e.mtime },
    );
  }
  return out.sort(byPath);
}

/** `.vmlist` as data: the list version and guest -> {node, type, version}. */
export function parseVmlist(text: string): { version: number; ids: Record<string, { node: string; type: string; version: number }> } {
  const parsed = JSON.parse(text) as { version: number; ids?: Record<string, { node: string; type: string; version: number }> };
  return { version: parsed.version, ids: parsed.ids ?? {} };
}

// ---- the reference's load rules ----

/** The reference's CREATE TABLE as SQLite stores it in sqlite_master (spec §3). */
export const REFERENCE_TREE_SQL =
  'CREATE TABLE tree (' +
  '  inode INTEGER PRIMARY KEY NOT NULL,' +
  "  parent INTEGER NOT NULL CHECK(typeof(parent)=='integer')," +
  "  version INTEGER NOT NULL CHECK(typeof(version)=='integer')," +
  "  writer INTEGER NOT NULL CHECK(typeof(writer)=='integer')," +
  "  mtime INTEGER NOT NULL CHECK(typeof(mtime)=='integer')," +
  "  type INTEGER NOT NULL CHECK(typeof(type)=='integer')," +
  '  name TEXT NOT NULL,' +
  '  data BLOB)';

interface RawRow {
  inode: bigint;
  parent: bigint;
  version: bigint;
  type: bigint;
  name: Buffer | null;
  data: Buffer | null;
  types: string;
}

interface Node {
  /** 0 = placeholder for a parent not seen yet. */
  type: number;
  name: string;
  entries: Map<string, Node> | null;
}

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * Why the reference would refuse to start on `file` (empty = it loads): its loader's checks in its
 * order, over rows in SELECT order, each column read as sqlite3_column_int64/text/blob reads it,
 * then the duplicate-VMID check of its start-up. Opens the file read-only.
 */
export function referenceLoadProblems(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        'SELECT inode, IFNULL(CAST(parent AS INTEGER), 0) AS parent, IFNULL(CAST(version AS INTEGER), 0) AS version,' +
          ' IFNULL(CAST(type AS INTEGER), 0) AS type, CAST(CAST(name AS TEXT) AS BLOB) AS name, CAST(data AS BLOB) AS data,' +
          " typeof(parent)||','||typeof(version)||','||typeof(writer)||','||typeof(mtime)||','||typeof(type)||','||typeof(name)||','||typeof(data) AS types FROM tree",
      )
      .safeIntegers(true)
      .all() as RawRow[];
    const index = new Map<bigint, Node>([[0n, { type: 4, name: '', entries: new Map() }]]);
    for (const r of rows) {
      const inode = U64(r.inode);
      const where = `inode ${inode}`;
      if (r.name === null || r.name.length === 0) return [`${where}: inode has no name`];
      const nul = r.name.indexOf(0);
      const name = (nul < 0 ? r.name : r.name.subarray(0, nul)).toString('latin1');
      const type = Number(BigInt.asUintN(8, r.type));
      const size = r.data?.length ?? 0;
      if (type === 4) {
        if (size > 0) return [`${where}: directory inode contains data`];
      } else if (type !== 8) {
        return [`${where}: inode has unknown type ${type}`];
      }
      if (inode === 0n) {
        if (name !== '__version__') return [`${where}: root inode has unexpected name '${name}'`];
        continue;
      }
      const parentInode = U64(r.parent);
      let parent = index.get(parentInode);
      if (parent === undefined) {
        parent = { type: 0, name: '', entries: new Map() };
        index.set(parentInode, parent);
      } else if (parent.type !== 4 && parent.type !== 0) {
        return [`${where}: parent is not a directory`];
      }
      const te: Node = { type, name, entries: null };
      if (type === 4) {
        const placeholder = index.get(inode);
        if (placeholder !== undefined) {
          if (placeholder.type !== 0) return [`${where}: found strange placeholder`];
          te.entries = placeholder.entries;
          placeholder.entries = null;
        } else {
          te.entries = new Map();
        }
      }
      if (parent.entries !== null) {
        if (parent.entries.has(name)) return [`${where}: found entry with duplicate name '${name}'`];
        parent.entries.set(name, te);
      }
      index.set(inode, te);
    }
    for (const [inode, node] of index) if (node.type === 0) return [`missing directory inode ${inode}`];
    return duplicateVmids(index.get(0n)!);
  } finally {
    db.close();
  }
}

/** memdb_recreate_vmlist at start-up: a VMID configured twice makes the start fail. */
function duplicateVmids(root: Node): string[] {
  const nodes = root.entries?.get('nodes');
  if (nodes === undefined || nodes.type !== 4 || nodes.entries === null) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [nodeName, nodeDir] of nodes.entries) {
    if (nodeDir.type !== 4 || nodeDir.entries === null || !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(nodeName)) continue;
    for (const guestDir of ['qemu-server', 'openvz', 'lxc']) {
      const dir = nodeDir.entries.get(guestDir);
      if (dir === undefined || dir.entries === null) continue;
      for (const [file, e] of dir.entries) {
        const m = /^([1-9][0-9]*)\.conf$/.exec(file);
        if (e.type !== 8 || m === null || Number(m[1]) > 0xffffffff) continue;
        if (seen.has(m[1]!)) problems.push(`detected duplicate VMID ${m[1]}`);
        seen.add(m[1]!);
      }
    }
  }
  return problems;
}

/**
 * What every row the reference itself writes satisfies (stricter than its loader): the reference's
 * table definition, integer columns, text names, blob-or-NULL data, types 4/8, directories without
 * data bytes, the `__version__` row (type 8, parent 0, NULL data) with the highest version, no
 * inode above it. A database pmxcfs-ts writes must pass this too ("strict in what you write").
 */
export function referenceWriteProblems(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const problems: string[] = [];
    const schema = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as { type: string; name: string; sql: string }[];
    if (schema.length !== 1 || schema[0]!.name !== 'tree' || schema[0]!.sql !== REFERENCE_TREE_SQL) {
      problems.push(`schema is not the reference's: ${JSON.stringify(schema)}`);
    }
    const rows = db.prepare('SELECT inode, parent, version, writer, mtime, type, name, data, ' + "typeof(parent)||typeof(version)||typeof(writer)||typeof(mtime)||typeof(type)||typeof(name) AS types, typeof(data) AS dataType FROM tree").safeIntegers(true).all() as (RawRow & { writer: bigint; mtime: bigint; dataType: string })[];
    const versionRow = rows.find((r) => r.inode === 0n);
    if (versionRow === undefined) problems.push('no __version__ row');
    let highest = 0n;
    for (const r of rows) {
      const where = `inode ${r.inode}`;
      if (r.types !== 'integer'.repeat(5) + 'text') problems.push(`${where}: column types ${r.types}`);
      if (r.dataType !== 'blob' && r.dataType !== 'null') problems.push(`${where}: data of type ${r.dataType}`);
      if (r.writer < 0n || r.writer > 0xffffffffn || r.mtime < 0n || r.mtime > 0xffffffffn) problems.push(`${where}: writer/mtime beyond u32`);
      if (r.inode === 0n) {
        // type 4 after a sync commit: the reference stores the synced root entry's type (fixture 5-mixed-cluster)
        if ((r.type !== 8n && r.type !== 4n) || r.parent !== 0n || r.data !== null || String(r.name) !== '__version__') problems.push(`${where}: not a reference __version__ row`);
        continue;
      }
      if (r.inode > highest) highest = r.inode;
      if (r.version > highest) highest = r.version;
      if (r.type !== 4n && r.type !== 8n) problems.push(`${where}: type ${r.type}`);
      if (r.type === 4n && r.data !== null && r.data.length > 0) problems.push(`${where}: directory with data`);
      if (r.type === 8n && r.data !== null && r.data.length === 0) problems.push(`${where}: empty file stored as X'' (the reference stores NULL)`);
    }
    if (versionRow !== undefined && versionRow.version < highest) problems.push(`global version ${versionRow.version} below inode/version ${highest}`);
    return problems.concat(referenceLoadProblems(file));
  } finally {
    db.close();
  }
}
