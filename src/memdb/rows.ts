/**
 * Rows of table `tree` (spec §3) <-> entries of the in-RAM tree (spec §2): building and validating
 * a whole tree from rows (start-up and sync commit), and the row of one entry.
 */
import { MemDbLoadError } from './load-error';
import { DT_DIR, DT_REG, type DbRow, type Entry } from './types';

export const VERSION_ROW_NAME = '__version__';

/** The `__version__` row: inode 0, parent 0, type 8, data NULL (spec §3). */
export function versionRow(version: number, writer: number, mtime: number): DbRow {
  return { inode: 0, parent: 0, version, writer, mtime, type: DT_REG, name: VERSION_ROW_NAME, data: null };
}

/** The row an entry is stored as; dirs and empty files store NULL data. */
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
}

function describe(row: DbRow): string {
  return `row inode=${row.inode} name=${JSON.stringify(row.name)}`;
}

function fail(row: DbRow, why: string): never {
  throw new MemDbLoadError(`config.db: ${describe(row)}: ${why}`);
}

/**
 * Build and validate a tree from all rows of table `tree`, in any order (children may precede their
 * parents). Throws MemDbLoadError naming the first bad row: inode 0 not named `__version__`, empty
 * name, unknown type, directory with data, missing parent, parent not a directory, duplicate name,
 * entries not reachable from the root, or a global version lower than some inode or version
 * (new inodes would collide). Writer/mtime must already be masked to 32 bits and type to 8 bits.
 */
export function buildTree(rows: readonly DbRow[]): BuiltTree {
  let versionRowSeen: DbRow | undefined;
  const inodes = new Map<number, Entry>();
  const pending: DbRow[] = [];
  for (const row of rows) {
    if (!Number.isSafeInteger(row.inode) || row.inode < 0) fail(row, 'inode is not a non-negative integer');
    if (!Number.isSafeInteger(row.parent) || row.parent < 0) fail(row, 'parent is not a non-negative integer');
    if (!Number.isSafeInteger(row.version) || row.version < 0) fail(row, 'version is not a non-negative integer');
    if (row.inode === 0) {
      if (row.name !== VERSION_ROW_NAME) fail(row, `inode 0 must be the ${VERSION_ROW_NAME} row`);
      versionRowSeen = row;
      continue;
    }
    if (row.name === '') fail(row, 'empty name');
    if (row.type !== DT_DIR && row.type !== DT_REG) fail(row, `unknown type ${row.type}`);
    if (row.type === DT_DIR && row.data !== null) fail(row, 'directory with data');
    if (inodes.has(row.inode)) fail(row, 'duplicate inode');
    const isDir = row.type === DT_DIR;
    inodes.set(row.inode, {
      inode: row.inode,
      parent: row.parent,
      version: row.version,
      writer: row.writer,
      mtime: row.mtime,
      type: isDir ? DT_DIR : DT_REG,
      name: row.name,
      data: !isDir && row.data !== null && row.data.length > 0 ? row.data : null,
      children: isDir ? new Map() : null,
    });
    pending.push(row);
  }
  if (versionRowSeen === undefined && pending.length > 0) {
    fail(pending[0]!, `the database has entries but no ${VERSION_ROW_NAME} row (inode 0)`);
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
    if (row.inode > root.version || row.version > root.version) {
      fail(row, `inode/version above the global version ${root.version}`);
    }
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
  return { root, inodes, empty: versionRowSeen === undefined };
}
