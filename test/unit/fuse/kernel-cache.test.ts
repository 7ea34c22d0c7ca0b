/**
 * KernelCache decides what the kernel must be told after each applied change (docs/architecture.md,
 * "Kernel caches"): the tree is a real MemDb, the kernel's node table a real NodeTable; only the
 * writes to /dev/fuse are recorded instead of sent.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import { FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FOPEN_NOFLUSH } from '../../../src/fuse/kernel/abi';
import { NodeTable } from '../../../src/fuse/kernel/node-table';
import { CACHE_SECONDS, KernelCache, LEGACY_VALIDITY } from '../../../src/fuse/kernel-cache';
import { resolvePath } from '../../../src/fuse/virtual-entries';

const origin = { writer: 0, mtime: 1000 };

class RecordingNotifier {
  calls: string[] = [];
  invalidateAttributes(id: number): void {
    this.calls.push(`attr ${id}`);
  }
  invalidatePages(id: number): void {
    this.calls.push(`pages ${id}`);
  }
  dropAllNames(): boolean {
    this.calls.push('epoch');
    return true;
  }
  settled(): Promise<void> | null {
    return null;
  }
}

describe('KernelCache', () => {
  let memdb: MemDb;
  let nodes: NodeTable;
  let notifier: RecordingNotifier;
  let cache: KernelCache;
  let quorumListener: ((q: boolean) => void) | undefined;

  beforeEach(() => {
    memdb = MemDb.open(new MemoryTreeStore(), 1000);
    memdb.apply({ kind: 'mkdir', path: 'd' }, origin, 1000);
    memdb.apply({ kind: 'create', path: 'd/f' }, origin, 1000);
    nodes = new NodeTable();
    notifier = new RecordingNotifier();
    cache = new KernelCache(nodes, notifier, {
      memdb,
      onQuorumChange: (l) => {
        quorumListener = l;
        return () => (quorumListener = undefined);
      },
    });
    expect(cache.start(45)).toBe(true);
  });

  it('stays off on a kernel without INC_EPOCH and then caches as the reference', () => {
    const old = new KernelCache(new NodeTable(), new RecordingNotifier(), { memdb });
    expect(old.start(43)).toBe(false);
    expect(old.validity(resolvePath('/d/f'))).toEqual(LEGACY_VALIDITY);
    expect(old.negativeSeconds()).toBe(0);
    expect(old.openFlags(resolvePath('/d/f'), 0)).toBe(FOPEN_DIRECT_IO);
  });

  it('validity and open flags: tree entries cached, status files never', () => {
    expect(cache.validity(resolvePath('/d/f'))).toEqual({ entrySeconds: CACHE_SECONDS, attrSeconds: CACHE_SECONDS });
    expect(cache.validity(resolvePath('/.members')).attrSeconds).toBe(0);
    expect(cache.negativeSeconds()).toBe(CACHE_SECONDS);
    expect(cache.openFlags(resolvePath('/d/f'), 0)).toBe(FOPEN_KEEP_CACHE | FOPEN_NOFLUSH); // O_RDONLY
    expect(cache.openFlags(resolvePath('/d/f'), 1)).toBe(FOPEN_KEEP_CACHE); // O_WRONLY
    expect(cache.openFlags(resolvePath('/.vmlist'), 0)).toBe(FOPEN_DIRECT_IO);
  });

  it('content of a file: its attributes at once and its pages; of a directory: attributes only', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('x'), truncate: true }, origin, 1000);
    expect(notifier.calls).toEqual([`attr ${f}`, `pages ${f}`]);
    notifier.calls = [];
    memdb.apply({ kind: 'mtime', path: 'd', mtime: 5 }, origin, 1000);
    expect(notifier.calls).toEqual([`attr ${d}`]);
    notifier.calls = [];
    memdb.apply({ kind: 'write', path: 'unknown-to-the-kernel', offset: 0, data: Buffer.alloc(0), truncate: true }, origin, 1000);
    expect(notifier.calls).toEqual([]);
  });

  it('an own commit of content the kernel wrote itself drops the attributes but not the pages', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    const done = cache.ownCommit('d/f', Buffer.from('mine'));
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('mine'), truncate: true }, origin, 1000);
    done(0);
    expect(notifier.calls).toEqual([`attr ${f}`]);
    // used up: the same bytes again from a peer are not the kernel's own
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('mine'), truncate: true }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toEqual([`attr ${f}`, `attr ${f}`, `pages ${f}`]);
  });

  it('an empty own commit matches an empty file', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('x'), truncate: true }, origin, 1000);
    notifier.calls = [];
    const done = cache.ownCommit('d/f', Buffer.alloc(0));
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.alloc(0), truncate: true }, origin, 1000);
    done(0);
    expect(notifier.calls).toEqual([`attr ${f}`]);
  });

  it('a peer\'s different content landing while an own commit is in flight drops the pages', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    const done = cache.ownCommit('d/f', Buffer.from('mine'));
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('theirs'), truncate: true }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toEqual([`attr ${f}`, `pages ${f}`]);
    // ours lands after it: the kernel saw only our bytes since (reads come from the buffer)
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('mine'), truncate: true }, origin, 1000);
    done(0);
    expect(notifier.calls).toEqual([`attr ${f}`, `pages ${f}`, `attr ${f}`]);
  });

  it('a failed own commit leaves no expectation: a later change with those bytes drops the pages', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    const done = cache.ownCommit('d/f', Buffer.from('mine'));
    done(-28);
    memdb.apply({ kind: 'write', path: 'd/f', offset: 0, data: Buffer.from('mine'), truncate: true }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toEqual([`attr ${f}`, `pages ${f}`]);
  });

  it('a name change the kernel asked for needs no epoch; one it did not ask for drops every name', () => {
    const own = cache.expect({ op: 'create', path: '/d/g' });
    memdb.apply({ kind: 'create', path: 'd/g' }, origin, 1000);
    cache.answered(own, 0);
    expect(notifier.calls).not.toContain('epoch');
    memdb.apply({ kind: 'create', path: 'd/peer' }, { writer: 2, mtime: 1000 }, 1000); // a peer's
    expect(notifier.calls).toContain('epoch');
  });

  it('no epoch for name changes while the kernel got no name since the last one', () => {
    const peer = { writer: 2, mtime: 1000 };
    memdb.apply({ kind: 'create', path: 'd/p1' }, peer, 1000);
    memdb.apply({ kind: 'create', path: 'd/p2' }, peer, 1000);
    memdb.apply({ kind: 'delete', path: 'd/p1' }, peer, 1000);
    expect(notifier.calls.filter((c) => c === 'epoch')).toHaveLength(1); // the kernel's names from before
    cache.namesHandedOut(); // e.g. a LOOKUP answered (also a negative one)
    memdb.apply({ kind: 'rename', path: 'd/p2', to: 'd/p3' }, peer, 1000);
    memdb.apply({ kind: 'delete', path: 'd/p3' }, peer, 1000);
    expect(notifier.calls.filter((c) => c === 'epoch')).toHaveLength(2);
    quorumListener!(false); // quorum: names only if some were handed out meanwhile
    expect(notifier.calls.filter((c) => c === 'epoch')).toHaveLength(2);
  });

  it('an own name change hands its names to the kernel: a peer change after it drops them', () => {
    memdb.apply({ kind: 'create', path: 'd/p1' }, { writer: 2, mtime: 1000 }, 1000);
    notifier.calls = [];
    const own = cache.expect({ op: 'create', path: '/d/mine' }); // counts as names handed out
    memdb.apply({ kind: 'create', path: 'd/mine' }, origin, 1000);
    cache.answered(own, 0);
    expect(notifier.calls).not.toContain('epoch');
    memdb.apply({ kind: 'delete', path: 'd/mine' }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toContain('epoch');
  });

  it('own renames and removals are matched by their paths; the moved node\'s attributes are dropped', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    const mv = cache.expect({ op: 'rename', path: '/d/f', to: '/d/h' });
    memdb.apply({ kind: 'rename', path: 'd/f', to: 'd/h' }, origin, 1000);
    cache.answered(mv, 0);
    expect(notifier.calls).toEqual([`attr ${f}`]);
    nodes.renamed(d, 'f', d, 'h');
    const rm = cache.expect({ op: 'delete', path: '/d/h' });
    memdb.apply({ kind: 'delete', path: 'd/h' }, origin, 1000);
    cache.answered(rm, 0);
    expect(notifier.calls).not.toContain('epoch');
  });

  it('a peer\'s identical change taken for ours: our request fails, and then every name is dropped', () => {
    const own = cache.expect({ op: 'mkdir', path: '/d/x' });
    memdb.apply({ kind: 'mkdir', path: 'd/x' }, { writer: 2, mtime: 1000 }, 1000); // the peer's, first
    expect(notifier.calls).not.toContain('epoch');
    expect(memdb.apply({ kind: 'mkdir', path: 'd/x' }, origin, 1000)).toBeLessThan(0); // ours: EEXIST
    cache.answered(own, -17);
    expect(notifier.calls).toContain('epoch');
  });

  it('an expectation whose change never came leaves nothing behind', () => {
    const own = cache.expect({ op: 'create', path: '/d/never' });
    cache.answered(own, -13);
    memdb.apply({ kind: 'create', path: 'd/never' }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toContain('epoch');
  });

  it('quorum changes drop every name and every node\'s attributes', () => {
    const d = nodes.remember(1, 'd');
    const f = nodes.remember(d, 'f');
    quorumListener!(false);
    expect(notifier.calls).toEqual(['epoch', 'attr 1', `attr ${d}`, `attr ${f}`]);
  });

  it('a sync (whole tree reloaded) also drops every node\'s pages', () => {
    const d = nodes.remember(1, 'd');
    const index = memdb.encodeIndex();
    expect(memdb.applySync(index, [], 1000)).toBe(true);
    expect(notifier.calls).toEqual(['epoch', 'attr 1', 'pages 1', `attr ${d}`, `pages ${d}`]);
  });

  it('stop() ends the observation', () => {
    cache.stop();
    memdb.apply({ kind: 'create', path: 'd/late' }, { writer: 2, mtime: 1000 }, 1000);
    expect(notifier.calls).toEqual([]);
    expect(quorumListener).toBeUndefined();
  });
});
