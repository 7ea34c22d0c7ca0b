/**
 * Rows of table `tree` (spec §3) <-> entries of the in-RAM tree (spec §2): building a whole tree
 * from rows (start-up and sync commit), and the row of one entry.
 *
 * Loading is exactly as tolerant as the reference's loader (database.c): a row is refused only for
 * what the reference refuses — an empty name, a type other than 4/8, a directory whose data has a
 * non-zero length, inode 0 not named `__version__`, a missing parent, a parent that is not a
 * directory, a duplicate name in a directory — plus what pmxcfs-ts cannot serve at all: entries not
 * reachable from the root (a cycle of parents) and a name that is empty up to its first NUL byte.
 * Everything the reference's write paths leave in a row loads: NULL or `X''` data on a directory
 * (rename and utime write `X''`), NULL data on a file, sparse inodes and versions.
 */
import { MemDbLoadError } from './load-error';
import { DT_DIR, DT_REG, type DbRow, type Entry } from './types';

export const VERSION_ROW_NAME = '__version__';

/** The `__version__` row: inode 0, parent 0, type 8, data NULL (spec §3). */
export function versionRow(version: number, writer: number, mtime: number): DbRow {
  return { inode: 0, parent: 0, version, writer, mtime, type: DT_REG, name: VERSION_ROW_NAME, data: null };
}

/**
 * The row an entry is stored as. Directories and empty files store NULL data: what the reference's
 * mkdir and create write, and what every loader (the reference's, any pmxcfs-ts) accepts. (The
 * reference writes `X''` for a directory after rename or utime; both load as an empty directory.)
 */
export function rowOfEntry(e: Entry): DbRow {
  const data = e.type === DT_REG && e.data !== null && e.data.length > 0 ? e.data : null;
  return { inode: e.inode, parent: e.parent, version: e.version, writer: e.writer, mtime: e.mtime, type: e.type, name: e.name, data };
}

export function newRoot(version: number, writer: number, mtime: number): Entry {
  return { inode: 0, parent: 0, version, writer, mtime, type: DT_DIR, name: '', data: null, children: new Map() };
}

/** A tree built from rows: the root and every entry by inode (root included). */
export interface BuiltTree {
  root: Entry;
  inodes: Map<number, Entry>;
  /** True when the rows held no `__version__` row and no entry at all (a fresh database). */
  empty: boolean;
  /** Whether a `__version__` row was among the rows. */
  hasVersionRow: boolean;
  /** The highest inode or version of any entry (0 without entries). */
  highest: number;
  /** Oddities the reference loads silently and pmxcfs-ts loads too, each naming its row. */
  warnings: string[];
}

function describe(row: DbRow): string {
  return `row inode=${row.inode} name=${JSON.stringify(row.name)}`;
}

function fail(row: DbRow, why: string): never {
  throw new MemDbLoadError(`config.db: ${describe(row)}: ${why}`);
}

/** The reference's per-row checks, in its order (they apply to the `__version__` row too). */
function checkRow(row: DbRow): void {
  if (!Number.isSafeInteger(row.inode) || row.inode < 0) fail(row, 'inode is not a non-negative integer');
  if (!Number.isSafeInteger(row.parent) || row.parent < 0) fail(row, 'parent is not a non-negative integer');
  if (!Number.isSafeInteger(row.version) || row.version < 0) fail(row, 'version is not a non-negative integer');
  if (row.name === '') fail(row, 'empty name');
  if (row.type === DT_DIR) {
    if (row.data !== null && row.data.length > 0) fail(row, `directory with data (${row.data.length} bytes)`);
  } else if (row.type !== DT_REG) {
    fail(row, `unknown type ${row.type}`);
  }
  if (row.inode === 0) {
    if (row.name !== VERSION_ROW_NAME) fail(row, `inode 0 must be the ${VERSION_ROW_NAME} row`);
  } else if (row.name.startsWith('\u0000')) {
    fail(row, 'name is empty up to its first NUL byte (cannot be served)');
  }
}

/**
 * Build a tree from all rows of table `tree`, in any order (children may precede their parents).
 * Throws MemDbLoadError naming the first row the tree cannot be built from (see the file comment).
 * A name is cut at its first NUL byte, as the reference's C string copy does. Writer/mtime must
 * already be masked to 32 bits and type to 8 bits.
 */
export function buildTree(rows: readonly DbRow[]): BuiltTree {
  let versionRowSeen: DbRow | undefined;
  const inodes = new Map<number, Entry>();
  const pending: DbRow[] = [];
  const warnings: string[] = [];
  let highest = 0;
  for (const row of rows) {
    checkRow(row);
    if (row.inode === 0) {
      versionRowSeen = row;
      continue;
    }
    if (inodes.has(row.inode)) fail(row, 'duplicate inode');
    const isDir = row.type === DT_DIR;
    const nul = row.name.indexOf('\u0000');
    inodes.set(row.inode, {
      inode: row.inode,
      parent: row.parent,
      version: row.version,
      writer: row.writer,
      mtime: row.mtime,
      type: isDir ? DT_DIR : DT_REG,
      name: nul < 0 ? row.name : row.name.slice(0, nul),
      data: !isDir && row.data !== null && row.data.length > 0 ? row.data : null,
      children: isDir ? new Map() : null,
    });
    highest = Math.max(highest, row.inode, row.version);
    pending.push(row);
  }
  const root = newRoot(versionRowSeen?.version ?? 0, versionRowSeen?.writer ?? 0, versionRowSeen?.mtime ?? 0);
  inodes.set(0, root);

  for (const row of pending) {
    const entry = inodes.get(row.inode)!;
    const parent = inodes.get(row.parent);
    if (parent === undefined) fail(row, `missing parent ${row.parent}`);
    if (parent.children === null) fail(row, `parent ${row.parent} is not a directory`);
    if (parent.children.has(entry.name)) fail(row, `duplicate name in directory ${row.parent}`);
    parent.children.set(entry.name, entry);
  }

  // Every entry must hang under the root: a cycle of entries parenting each other would not.
  const reached = new Set<number>();
  const stack: Entry[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    reached.add(e.inode);
    if (e.children !== null) for (const child of e.children.values()) stack.push(child);
  }
  for (const row of pending) {
    if (!reached.has(row.inode)) fail(row, 'not reachable from the root (cycle of parents)');
  }

  if (versionRowSeen === undefined && pending.length > 0) warnings.push(`config.db: entries but no ${VERSION_ROW_NAME} row (inode 0)`);
  if (highest > root.version) {
    const row = pending.find((r) => r.inode === highest || r.version === highest)!;
    warnings.push(`config.db: ${describe(row)}: inode/version ${highest} above the global version ${root.version}`);
  }
  return { root, inodes, empty: versionRowSeen === undefined && pending.length === 0, hasVersionRow: versionRowSeen !== undefined, highest, warnings };
}
