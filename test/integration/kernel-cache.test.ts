/**
 * Kernel caches with invalidation (docs/architecture.md, "Kernel caches"): the kernel keeps names,
 * missing names, attributes and pages, and a node never serves anything older than what it has
 * applied. Two daemons on one real corosync: A changes a file, B's kernel had it cached; as soon as
 * B's daemon says it applied the change (its `.version` counter of that path moved, read from B's
 * uncached status file), stat/read/readdir on B must show the new state — no waiting. Quorum
 * flapping: as soon as B's `.members` says quorate 0/1, the modes and the EACCES follow.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, corosyncAvailable } from '../helpers/corosync';
import { startClusterNode, stopClusterNodes, type ClusterNode } from './cluster-node';
import { cleanup, errnoOf, startDaemon, waitUntil, type DaemonHandle } from './daemon-harness';

type Node = ClusterNode;

/** The `.version` counter of an observed path on a mount (read from the daemon, never cached). */
function counter(mnt: string, path: string): number {
  const m = new RegExp(`"${path.replace('.', '\\.')}": (\\d+)`).exec(fs.readFileSync(join(mnt, '.version'), 'utf8'));
  if (m === null) throw new Error(`${path} not in .version`);
  return Number(m[1]);
}

function quorate(mnt: string): boolean | undefined {
  const m = /"quorate": ([01])/.exec(fs.readFileSync(join(mnt, '.members'), 'utf8'));
  return m === null ? undefined : m[1] === '1';
}

function statOrErrno(file: string): fs.Stats | string {
  try {
    return fs.statSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

describe.skipIf(!corosyncAvailable())('kernel caches: a node never serves older than it applied', () => {
  let ns: CorosyncNamespace;
  const nodes: Node[] = [];

  const startNode = (): Promise<Node> =>
    startClusterNode(ns, nodes, { prefix: 'pmxcfs-kernel-cache-', env: { PMXCFS_RECONNECT_DELAY_MS: '500' }, extraArgs: ['-d'] });

  /** Runs `change` on A and returns once B's daemon has applied it (B's counter of `path` moved). */
  async function changeOnAThenWaitForB(b: Node, path: string, change: () => void): Promise<void> {
    const before = counter(b.mnt, path);
    change();
    await waitUntil(`B applied the change of ${path}`, () => (counter(b.mnt, path) > before ? true : undefined));
  }

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'cachecluster' });
    await ns.startCorosync();
    const a = await startNode();
    await waitUntil('A writable', () => (errnoOf(() => fs.writeFileSync(join(a.mnt, 'storage.cfg'), 'start\n')) === 'ok' ? true : undefined));
    const b = await startNode();
    await waitUntil('B synced', () => (fs.readFileSync(join(b.mnt, 'storage.cfg'), 'utf8') === 'start\n' ? true : undefined));
    await waitUntil('B writable', () => (errnoOf(() => fs.writeFileSync(join(b.mnt, 'user.cfg'), 'b\n')) === 'ok' ? true : undefined));
  });

  afterAll(async () => {
    await stopClusterNodes(nodes);
    await ns?.destroy();
  });

  it('uses the kernel caches on this kernel', async () => {
    // The INIT line is written at mount time; its pipe may deliver it to this process a bit later.
    await waitUntil('both daemons said how they cache', () => (nodes.every((n) => /fuse: kernel protocol/.test(n.log())) ? true : undefined), 10_000);
    for (const n of nodes) expect(n.log(), n.log()).toMatch(/kernel caches with notifications/);
  });

  it('content, size and mtime written on A are what B shows as soon as B applied them (cached before)', async () => {
    const [a, b] = nodes as [Node, Node];
    const file = (n: Node): string => join(n.mnt, 'storage.cfg');
    for (let i = 0; i < 40; i++) {
      // B's kernel holds the name, the attributes and the pages of the old content.
      fs.readFileSync(file(b));
      fs.statSync(file(b));
      // Same size every other round (only the content differs), growing and shrinking otherwise.
      const content = i % 2 === 0 ? `round ${String(i).padStart(3, '0')}\n` : `r${i}\n`.repeat(1 + (i % 7));
      await changeOnAThenWaitForB(b, 'storage.cfg', () => fs.writeFileSync(file(a), content));
      expect(fs.readFileSync(file(b), 'utf8')).toBe(content);
      const sa = fs.statSync(file(a));
      const sb = fs.statSync(file(b));
      expect(sb.size).toBe(content.length);
      expect(sb.mtimeMs).toBe(sa.mtimeMs);
    }
  });

  it('own writes on B and peer writes from A of the same size alternate: B reads the newest each time', async () => {
    const [a, b] = nodes as [Node, Node];
    const file = (n: Node): string => join(n.mnt, 'vzdump.cron');
    fs.writeFileSync(file(b), 'own 000\n');
    for (let i = 1; i <= 20; i++) {
      // B's own write stays in B's pages (no page invalidation for it); A's write of the same size,
      // usually in the same second, must still replace them on B.
      const own = `own ${String(i).padStart(3, '0')}\n`;
      fs.writeFileSync(file(b), own);
      expect(fs.readFileSync(file(b), 'utf8')).toBe(own);
      const peer = `A   ${String(i).padStart(3, '0')}\n`;
      await changeOnAThenWaitForB(b, 'vzdump.cron', () => fs.writeFileSync(file(a), peer));
      expect(fs.readFileSync(file(b), 'utf8')).toBe(peer);
    }
  });

  it('an open descriptor on B reads the new content too', async () => {
    const [a, b] = nodes as [Node, Node];
    const fd = fs.openSync(join(b.mnt, 'storage.cfg'), 'r');
    try {
      for (let i = 0; i < 10; i++) {
        const buf = Buffer.alloc(64);
        fs.readSync(fd, buf, 0, 64, 0);
        const content = `fd round ${i}\n`;
        await changeOnAThenWaitForB(b, 'storage.cfg', () => fs.writeFileSync(join(a.mnt, 'storage.cfg'), content));
        const n = fs.readSync(fd, buf, 0, 64, 0);
        expect(buf.subarray(0, n).toString()).toBe(content);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it('create, unlink and directory listings follow at once (missing names were cached)', async () => {
    const [a, b] = nodes as [Node, Node];
    for (let i = 0; i < 15; i++) {
      expect(statOrErrno(join(b.mnt, 'domains.cfg'))).toBe('ENOENT'); // a negative entry on B
      expect(fs.readdirSync(b.mnt)).not.toContain('domains.cfg');
      await changeOnAThenWaitForB(b, 'domains.cfg', () => fs.writeFileSync(join(a.mnt, 'domains.cfg'), `d${i}\n`));
      expect(fs.readFileSync(join(b.mnt, 'domains.cfg'), 'utf8')).toBe(`d${i}\n`);
      expect(fs.readdirSync(b.mnt)).toContain('domains.cfg');
      await changeOnAThenWaitForB(b, 'domains.cfg', () => fs.unlinkSync(join(a.mnt, 'domains.cfg')));
      expect(statOrErrno(join(b.mnt, 'domains.cfg'))).toBe('ENOENT');
      expect(errnoOf(() => fs.readFileSync(join(b.mnt, 'domains.cfg')))).toBe('ENOENT');
      expect(fs.readdirSync(b.mnt)).not.toContain('domains.cfg');
    }
  });

  it('a rename on A moves the name on B at once (both names were cached)', async () => {
    const [a, b] = nodes as [Node, Node];
    for (let i = 0; i < 10; i++) {
      const [from, to] = i % 2 === 0 ? ['datacenter.cfg', 'vzdump.conf'] : ['vzdump.conf', 'datacenter.cfg'];
      if (i === 0) await changeOnAThenWaitForB(b, from, () => fs.writeFileSync(join(a.mnt, from), 'moving\n'));
      expect(fs.readFileSync(join(b.mnt, from), 'utf8')).toBe('moving\n');
      expect(statOrErrno(join(b.mnt, to))).toBe('ENOENT');
      await changeOnAThenWaitForB(b, to, () => fs.renameSync(join(a.mnt, from), join(a.mnt, to)));
      expect(statOrErrno(join(b.mnt, from))).toBe('ENOENT');
      expect(fs.readFileSync(join(b.mnt, to), 'utf8')).toBe('moving\n');
    }
  });

  it('quorum flapping: the write bits and EACCES follow quorum at once', async () => {
    const [, b] = nodes as [Node, Node];
    const file = join(b.mnt, 'storage.cfg');
    fs.mkdirSync(join(b.mnt, 'ha'));
    for (let i = 0; i < 3; i++) {
      expect(fs.statSync(file).mode & 0o777).toBe(0o640); // cached while quorate
      expect(fs.statSync(join(b.mnt, 'ha')).mode & 0o777).toBe(0o755);
      await ns.killCorosync();
      await waitUntil('B not quorate', () => (quorate(b.mnt) === false ? true : undefined));
      expect(fs.statSync(file).mode & 0o777).toBe(0o440);
      expect(fs.statSync(join(b.mnt, 'ha')).mode & 0o777).toBe(0o555);
      expect(errnoOf(() => fs.writeFileSync(file, 'no quorum\n'))).toBe('EACCES');
      await ns.startCorosync();
      await waitUntil('B quorate', () => (quorate(b.mnt) === true ? true : undefined));
      expect(fs.statSync(file).mode & 0o777).toBe(0o640);
      await waitUntil('B writable again', () => (errnoOf(() => fs.writeFileSync(file, `quorum ${i}\n`)) === 'ok' ? true : undefined));
    }
  });
});

describe('kernel caches in local mode', () => {
  let d: DaemonHandle | undefined;
  beforeAll(async () => {
    d = await startDaemon();
  });
  afterAll(async () => {
    await cleanup(d);
  });

  it('reads after own writes show the new content and size at once', () => {
    const p = (s: string): string => join(d!.mnt, s);
    for (let i = 0; i < 50; i++) {
      const content = i % 2 === 0 ? `same size ${i % 10}\n` : 'x'.repeat(i);
      fs.writeFileSync(p('own.cfg'), content);
      expect(fs.readFileSync(p('own.cfg'), 'utf8')).toBe(content);
      expect(fs.statSync(p('own.cfg')).size).toBe(content.length);
    }
  });

  it('partial overwrites through one descriptor are what another descriptor reads, page by page', () => {
    const file = join(d!.mnt, 'partial.cfg');
    const expected = Buffer.alloc(3 * 4096 + 100, 'a');
    fs.writeFileSync(file, expected);
    const reader = fs.openSync(file, 'r');
    const writer = fs.openSync(file, 'r+');
    try {
      const got = Buffer.alloc(expected.length);
      for (let i = 0; i < 30; i++) {
        expect(fs.readSync(reader, got, 0, got.length, 0)).toBe(expected.length); // the kernel caches every page
        const at = (i * 1531) % (expected.length - 10);
        const patch = Buffer.from(`#${String(i).padStart(8, '0')}`);
        fs.writeSync(writer, patch, 0, patch.length, at); // inside one page or across two
        patch.copy(expected, at);
        fs.fsyncSync(writer); // commits the buffered content
        expect(fs.readSync(reader, got, 0, got.length, 0)).toBe(expected.length);
        expect(got.equals(expected)).toBe(true);
      }
    } finally {
      fs.closeSync(reader);
      fs.closeSync(writer);
    }
  });

  it('PVE\'s atomic replace (tmp file, then rename over the target) reads back at once, same size each time', () => {
    const target = join(d!.mnt, 'atomic.cfg');
    for (let i = 0; i < 50; i++) {
      const content = `generation ${String(i % 10)}\n`;
      const tmp = join(d!.mnt, `atomic.cfg.tmp.${i}`);
      fs.writeFileSync(tmp, content);
      fs.renameSync(tmp, target);
      expect(fs.readFileSync(target, 'utf8')).toBe(content);
    }
  });
});
