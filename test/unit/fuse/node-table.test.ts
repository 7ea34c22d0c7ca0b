/** NodeTable: the kernel's node ids mapped to PveFs paths, with lookup counting, unlink and rename. */
import { describe, expect, it } from 'vitest';
import { FUSE_ROOT_ID } from '../../../src/fuse/kernel/abi';
import { NodeTable } from '../../../src/fuse/kernel/node-table';

const ROOT = FUSE_ROOT_ID;

describe('NodeTable', () => {
  it('root is "/" and the table starts with it alone', () => {
    const t = new NodeTable();
    expect(t.path(ROOT)).toBe('/');
    expect(t.size).toBe(1);
    expect(t.childPath(ROOT, 'a')).toBe('/a');
  });

  it('nested nodes have the joined path; childPath builds below them', () => {
    const t = new NodeTable();
    const nodes = t.remember(ROOT, 'nodes');
    const n1 = t.remember(nodes, 'n1');
    const conf = t.remember(n1, '100.conf');
    expect(new Set([nodes, n1, conf]).size).toBe(3);
    expect([nodes, n1, conf].every((id) => id > ROOT)).toBe(true);
    expect(t.path(nodes)).toBe('/nodes');
    expect(t.path(n1)).toBe('/nodes/n1');
    expect(t.path(conf)).toBe('/nodes/n1/100.conf');
    expect(t.childPath(n1, 'x')).toBe('/nodes/n1/x');
  });

  it('unknown ids have no path and forgetting them is harmless', () => {
    const t = new NodeTable();
    expect(t.path(999)).toBeUndefined();
    expect(t.path(0)).toBeUndefined();
    expect(t.childPath(999, 'a')).toBeUndefined();
    t.forget(999, 1);
    expect(t.size).toBe(1);
    // a node below an unknown parent (never happens from the kernel) has no path either
    const orphan = t.remember(999, 'x');
    expect(t.path(orphan)).toBeUndefined();
  });

  it('remember() of the same name returns the same id and counts; forget to zero removes it', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    expect(t.remember(ROOT, 'a')).toBe(a);
    expect(t.remember(ROOT, 'a')).toBe(a);
    t.forget(a, 2);
    expect(t.path(a)).toBe('/a'); // one reference left
    expect(t.size).toBe(2);
    t.forget(a, 1);
    expect(t.path(a)).toBeUndefined();
    expect(t.size).toBe(1);
    // ids are never reused: the same name now gets a new node
    const again = t.remember(ROOT, 'a');
    expect(again).not.toBe(a);
    expect(again).toBeGreaterThan(a);
    expect(t.path(again)).toBe('/a');
  });

  it('forget with a count larger than the lookups removes the node', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    t.forget(a, 10);
    expect(t.path(a)).toBeUndefined();
    expect(t.size).toBe(1);
  });

  it('root is never forgotten', () => {
    const t = new NodeTable();
    t.forget(ROOT, 1);
    t.forget(ROOT, 1000);
    expect(t.path(ROOT)).toBe('/');
    expect(t.size).toBe(1);
    const a = t.remember(ROOT, 'a');
    expect(t.path(a)).toBe('/a');
  });

  it('removed() detaches: no path, the same name gets a new node, the old one lives until forgotten', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    t.removed(ROOT, 'a');
    expect(t.path(a)).toBeUndefined();
    expect(t.childPath(a, 'x')).toBeUndefined();
    expect(t.size).toBe(2);
    const b = t.remember(ROOT, 'a');
    expect(b).not.toBe(a);
    expect(t.path(b)).toBe('/a');
    // forgetting the detached node does not disturb the new one of the same name
    t.forget(a, 1);
    expect(t.size).toBe(2);
    expect(t.path(b)).toBe('/a');
    expect(t.remember(ROOT, 'a')).toBe(b);
  });

  it('removed() of a directory detaches its subtree too', () => {
    const t = new NodeTable();
    const d = t.remember(ROOT, 'd');
    const f = t.remember(d, 'f');
    t.removed(ROOT, 'd');
    expect(t.path(d)).toBeUndefined();
    expect(t.path(f)).toBeUndefined();
  });

  it('removed() of an unknown name changes nothing', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    t.removed(ROOT, 'b');
    t.removed(a, 'a');
    expect(t.path(a)).toBe('/a');
  });

  it('renamed() moves a node and its subtree; the old name is free', () => {
    const t = new NodeTable();
    const d = t.remember(ROOT, 'd');
    const sub = t.remember(d, 'sub');
    const f = t.remember(sub, 'f');
    const e = t.remember(ROOT, 'e');
    t.renamed(ROOT, 'd', e, 'moved');
    expect(t.path(d)).toBe('/e/moved');
    expect(t.path(sub)).toBe('/e/moved/sub');
    expect(t.path(f)).toBe('/e/moved/sub/f');
    // same node when looked up under its new name, a new one under the old name
    expect(t.remember(e, 'moved')).toBe(d);
    const fresh = t.remember(ROOT, 'd');
    expect(fresh).not.toBe(d);
    expect(t.path(fresh)).toBe('/d');
  });

  it('renamed() over an existing target detaches the target', () => {
    const t = new NodeTable();
    const tmp = t.remember(ROOT, 'x.tmp');
    const conf = t.remember(ROOT, 'x.conf');
    t.renamed(ROOT, 'x.tmp', ROOT, 'x.conf');
    expect(t.path(tmp)).toBe('/x.conf');
    expect(t.path(conf)).toBeUndefined();
    expect(t.remember(ROOT, 'x.conf')).toBe(tmp);
    // the replaced node is still counted until the kernel forgets it
    expect(t.size).toBe(3);
    t.forget(conf, 1);
    expect(t.size).toBe(2);
    expect(t.path(tmp)).toBe('/x.conf');
  });

  it('renamed() of a name the table does not know still detaches the target', () => {
    const t = new NodeTable();
    const target = t.remember(ROOT, 'b');
    t.renamed(ROOT, 'a', ROOT, 'b');
    expect(t.path(target)).toBeUndefined();
    expect(t.remember(ROOT, 'b')).not.toBe(target);
  });

  it('a renamed node keeps its lookup count', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    t.remember(ROOT, 'a');
    t.renamed(ROOT, 'a', ROOT, 'b');
    t.forget(a, 1);
    expect(t.path(a)).toBe('/b');
    t.forget(a, 1);
    expect(t.path(a)).toBeUndefined();
    expect(t.size).toBe(1);
  });

  describe('cached paths', () => {
    it('a renamed directory moves the cached paths of everything below it', () => {
      const t = new NodeTable();
      const d = t.remember(ROOT, 'd');
      const sub = t.remember(d, 'sub');
      const f = t.remember(sub, 'f');
      expect(t.path(f)).toBe('/d/sub/f'); // cached now
      t.renamed(ROOT, 'd', ROOT, 'e');
      expect(t.path(f)).toBe('/e/sub/f');
      expect(t.path(sub)).toBe('/e/sub');
      t.renamed(d, 'sub', ROOT, 'top');
      expect(t.path(f)).toBe('/top/f');
      expect(t.path(d)).toBe('/e');
    });

    it('a removed directory takes the paths below it, however they were cached', () => {
      const t = new NodeTable();
      const d = t.remember(ROOT, 'd');
      const f = t.remember(d, 'f');
      expect(t.path(f)).toBe('/d/f');
      t.removed(ROOT, 'd');
      expect(t.path(f)).toBeUndefined();
      expect(t.childPath(f, 'x')).toBeUndefined();
    });

    it('a directory renamed over takes the paths below it', () => {
      const t = new NodeTable();
      const a = t.remember(ROOT, 'a');
      const b = t.remember(ROOT, 'b');
      const inB = t.remember(b, 'x');
      expect(t.path(inB)).toBe('/b/x');
      t.renamed(ROOT, 'a', ROOT, 'b');
      expect(t.path(inB)).toBeUndefined();
      expect(t.path(a)).toBe('/b');
    });

    it('a file moved between directories follows the directory it is in now', () => {
      const t = new NodeTable();
      const a = t.remember(ROOT, 'a');
      const b = t.remember(ROOT, 'b');
      const f = t.remember(a, 'f');
      expect(t.path(f)).toBe('/a/f');
      t.renamed(a, 'f', b, 'g');
      expect(t.path(f)).toBe('/b/g');
      t.renamed(ROOT, 'b', ROOT, 'c'); // b has a child now: its rename must move f
      expect(t.path(f)).toBe('/c/g');
      t.renamed(ROOT, 'a', ROOT, 'z'); // a has none left
      expect(t.path(f)).toBe('/c/g');
      expect(t.path(a)).toBe('/z');
    });

    it('a renamed file does not move its siblings', () => {
      const t = new NodeTable();
      const d = t.remember(ROOT, 'd');
      const x = t.remember(d, 'x.tmp');
      const y = t.remember(d, 'y');
      expect(t.path(y)).toBe('/d/y');
      t.renamed(d, 'x.tmp', d, 'x');
      expect(t.path(x)).toBe('/d/x');
      expect(t.path(y)).toBe('/d/y');
      expect(t.path(d)).toBe('/d');
    });

    it('a directory forgotten before its children (not done by the kernel) leaves them without a path', () => {
      const t = new NodeTable();
      const d = t.remember(ROOT, 'd');
      const f = t.remember(d, 'f');
      expect(t.path(f)).toBe('/d/f');
      t.forget(d, 1);
      expect(t.path(f)).toBeUndefined();
    });
  });

  it('idOf finds a node by its path in any spelling; childId by parent and name', () => {
    const t = new NodeTable();
    const a = t.remember(ROOT, 'a');
    const b = t.remember(a, 'b');
    for (const p of ['a/b', '/a/b', '//a//b/', 'a/b/']) expect(t.idOf(p), p).toBe(b);
    for (const p of ['', '/', '//']) expect(t.idOf(p), p).toBe(ROOT);
    for (const p of ['b', 'a/c', 'a/b/c']) expect(t.idOf(p), p).toBeUndefined();
    expect(t.childId(a, 'b')).toBe(b);
    expect(t.childId(ROOT, 'b')).toBeUndefined();
    t.removed(a, 'b');
    expect(t.idOf('a/b')).toBeUndefined();
    expect(t.childId(a, 'b')).toBeUndefined();
  });
});
