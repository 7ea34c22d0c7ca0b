import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import type { FsOp, OpOrigin } from '../../../src/memdb/types';

export const LOCAL: OpOrigin = { writer: 0, mtime: 1234 };

export function freshDb(now = 1000): { db: MemDb; store: MemoryTreeStore } {
  const store = new MemoryTreeStore();
  return { db: MemDb.open(store, now), store };
}

/** Apply an op with the local origin and now = 1000; returns the result. */
export function run(db: MemDb, op: FsOp, origin: OpOrigin = LOCAL, now = 1000): number {
  return db.apply(op, origin, now);
}

export function mkdir(db: MemDb, path: string, origin: OpOrigin = LOCAL): number {
  return run(db, { kind: 'mkdir', path }, origin);
}

export function create(db: MemDb, path: string, origin: OpOrigin = LOCAL): number {
  return run(db, { kind: 'create', path }, origin);
}

export function write(db: MemDb, path: string, data: string | Buffer, offset = 0, truncate = false, origin: OpOrigin = LOCAL): number {
  return run(db, { kind: 'write', path, offset, data: typeof data === 'string' ? Buffer.from(data) : data, truncate }, origin);
}

/** create + truncating write, like a FUSE create followed by one write. */
export function putFile(db: MemDb, path: string, data: string | Buffer, origin: OpOrigin = LOCAL): void {
  const c = create(db, path, origin);
  if (c !== 0) throw new Error(`create ${path}: ${c}`);
  const w = write(db, path, data, 0, true, origin);
  if (w < 0) throw new Error(`write ${path}: ${w}`);
}

export function content(db: MemDb, path: string): string {
  const r = db.read(path, 0, 1 << 21);
  if (typeof r === 'number') throw new Error(`read ${path}: ${r}`);
  return r.toString();
}
