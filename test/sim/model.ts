/**
 * The simulation's model of one node's file tree: what the ops in that node's lineage (the ops it
 * applied, plus what it adopted from sync leaders) should have produced. Written independently of
 * memdb: it only applies the effect of ops that memdb reported as successful, so it needs no errno
 * rules, and it is compared with the real tree path by path, byte by byte.
 */
import type { MemDb } from '../../src/memdb/memdb';
import { DT_DIR, type FsOp } from '../../src/memdb/types';

export type ModelEntry = { dir: true } | { dir: false; data: Buffer };

export class TreeModel {
  constructor(
    /** path (no leading slash) -> entry; the root is implicit. */
    readonly entries: Map<string, ModelEntry> = new Map(),
    /** Delivery keys (sender nodeid/pid#count) of every NORMAL message applied in this lineage. */
    readonly applied: Set<string> = new Set(),
  ) {}

  clone(): TreeModel {
    return new TreeModel(new Map(this.entries), new Set(this.applied));
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  /** Apply the effect of an op that memdb reported as successful. */
  applySuccess(op: FsOp): void {
    const path = norm(op.path);
    switch (op.kind) {
      case 'mkdir':
        this.entries.set(path, { dir: true });
        return;
      case 'create':
        this.entries.set(path, { dir: false, data: Buffer.alloc(0) });
        return;
      case 'write': {
        const old = this.entries.get(path);
        const oldData = old !== undefined && !old.dir ? old.data : Buffer.alloc(0);
        this.entries.set(path, { dir: false, data: modelWrite(oldData, op.offset, op.data, op.truncate) });
        return;
      }
      case 'mtime':
        return;
      case 'delete':
        this.entries.delete(path);
        return;
      case 'rename': {
        const to = norm(op.to);
        if (to === path) return;
        const e = this.entries.get(path);
        if (e === undefined) return;
        this.entries.delete(path);
        this.entries.set(to, e);
        return;
      }
    }
  }

  /** Differences between this model and the real tree (empty when they agree). */
  diff(memdb: MemDb, limit = 5): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const e of memdb.entries()) {
      if (e.inode === 0) continue;
      const path = memdb.pathOf(e);
      seen.add(path);
      const m = this.entries.get(path);
      if (m === undefined) out.push(`memdb has ${path}, model does not`);
      else if (m.dir !== (e.type === DT_DIR)) out.push(`${path}: type differs`);
      else if (!m.dir && !m.data.equals(e.data ?? Buffer.alloc(0))) {
        out.push(`${path}: content ${JSON.stringify((e.data ?? Buffer.alloc(0)).toString())} != model ${JSON.stringify(m.data.toString())}`);
      }
      if (out.length >= limit) return out;
    }
    for (const path of this.entries.keys()) {
      if (!seen.has(path)) out.push(`model has ${path}, memdb does not`);
      if (out.length >= limit) return out;
    }
    return out;
  }
}

function norm(path: string): string {
  return path.split('/').filter((p) => p.length > 0).join('/');
}

/** POSIX pwrite + optional truncate to offset+len, zero-filling a gap. */
function modelWrite(old: Buffer, offset: number, data: Buffer, truncate: boolean): Buffer {
  const end = offset + data.length;
  const size = truncate ? end : Math.max(old.length, end);
  const out = Buffer.alloc(size);
  old.copy(out, 0, 0, Math.min(old.length, size));
  data.copy(out, offset);
  return out;
}
