import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import type { FsOp } from '../../../src/memdb/types';

const names = ['a', 'b', 'priv', 'lock', 'nodes', 'n1', 'qemu-server', '100.conf', '101.conf'];
const pathArb = fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
const opArb: fc.Arbitrary<FsOp> = fc.oneof(
  pathArb.map((path) => ({ kind: 'mkdir' as const, path })),
  pathArb.map((path) => ({ kind: 'create' as const, path })),
  fc.record({ path: pathArb, offset: fc.nat(3000), data: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)), truncate: fc.boolean() }).map((w) => ({ kind: 'write' as const, ...w })),
  fc.record({ path: pathArb, mtime: fc.nat(2000) }).map((m) => ({ kind: 'mtime' as const, ...m })),
  pathArb.map((path) => ({ kind: 'delete' as const, path })),
  fc.record({ path: pathArb, to: pathArb }).map((r) => ({ kind: 'rename' as const, ...r })),
);
const stepArb = fc.record({ op: opArb, writer: fc.constantFrom(0, 1, 2), mtime: fc.nat(2000), failCommit: fc.integer({ min: 0, max: 40 }).map((x) => x === 0) });

describe('random operation sequences', () => {
  it('RAM and store never diverge; replay is deterministic; version counts successes', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const store = new MemoryTreeStore();
        const db = MemDb.open(store, 0);
        const twin = MemDb.open(new MemoryTreeStore(), 0);
        for (const { op, writer, mtime, failCommit } of steps) {
          const before = db.version;
          const noop = op.kind === 'rename' && db.lookup(op.path) !== undefined && db.lookup(op.path) === db.lookup(op.to);
          if (failCommit) store.failCommits = 1; // rarely, the store fails this commit
          const result = db.apply(op, { writer, mtime }, 0);
          store.failCommits = 0;
          if (!db.errors) {
            expect(twin.apply(op, { writer, mtime }, 0)).toBe(result);
            expect(db.version).toBe(result >= 0 && !noop ? before + 1 : before);
          } else {
            expect(db.version).toBe(before);
          }
          // the store always holds exactly what RAM holds
          expect(MemDb.open(new MemoryTreeStore(new Map(store.rows)), 0).encodeIndex()).toEqual(db.encodeIndex());
        }
        if (!db.errors) expect(db.encodeIndex()).toEqual(twin.encodeIndex());
        const statfs = db.statfs();
        expect(statfs.ffree).toBe(262144 - [...db.entries()].length);
      }),
      { numRuns: 300 },
    );
  });
});
