/**
 * Two daemons on one corosync (same nodeid, different pids: CPG members are (nodeid, pid), so the
 * DFSM treats them as two members). The second starts with a fresh database and is brought up to
 * date by the sync protocol over real CPG (spec §4.4, §5.2: leader = highest index version, UPDATE
 * per differing inode, commit); afterwards writes on either mount are applied on both, and the two
 * databases hold the same rows. One leaving does not disturb the other.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, corosyncAvailable } from '../helpers/corosync';
import { startClusterNode, stopClusterNodes, type ClusterNode } from './cluster-node';
import { errnoOf, waitUntil } from './daemon-harness';

type Node = ClusterNode;

/** Every row of the tree table except the version row, as comparable text. */
function rows(db: string): string[] {
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const all = sqlite.prepare('SELECT inode, parent, version, writer, mtime, type, name, data FROM tree WHERE inode <> 0 ORDER BY inode').all() as Record<string, unknown>[];
    return all.map((r) => JSON.stringify({ ...r, data: r.data === null ? null : (r.data as Buffer).toString('hex') }));
  } finally {
    sqlite.close();
  }
}

describe.skipIf(!corosyncAvailable())('two daemons synchronised over a real corosync', () => {
  let ns: CorosyncNamespace;
  const nodes: Node[] = [];

  const startNode = (): Promise<Node> =>
    startClusterNode(ns, nodes, { prefix: 'pmxcfs-cluster-sync-', env: { PMXCFS_RECONNECT_DELAY_MS: '1000', PMXCFS_VERIFY_INTERVAL: '1' } });

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'synccluster' });
    await ns.startCorosync();
  });

  afterAll(async () => {
    await stopClusterNodes(nodes);
    await ns?.destroy();
  });

  it('a fresh second daemon receives the first one\'s tree through the sync protocol', async () => {
    const a = await startNode();
    await waitUntil('A writable', () => (errnoOf(() => fs.mkdirSync(join(a.mnt, 'nodes'))) === 'ok' ? true : undefined));
    fs.mkdirSync(join(a.mnt, 'nodes/node1'));
    fs.mkdirSync(join(a.mnt, 'nodes/node1/qemu-server'));
    fs.writeFileSync(join(a.mnt, 'nodes/node1/qemu-server/100.conf'), 'memory: 512\n');
    fs.writeFileSync(join(a.mnt, 'datacenter.cfg'), 'keyboard: de\n');

    const b = await startNode();
    await waitUntil('B has A\'s files', () =>
      fs.readFileSync(join(b.mnt, 'nodes/node1/qemu-server/100.conf'), 'utf8') === 'memory: 512\n' ? true : undefined,
    );
    expect(fs.readFileSync(join(b.mnt, 'datacenter.cfg'), 'utf8')).toBe('keyboard: de\n');
    expect(fs.readFileSync(join(b.mnt, '.vmlist'), 'utf8')).toContain('"100": { "node": "node1", "type": "qemu"');
    // B's log comes through a pipe and may lag behind what its mount already shows.
    await waitUntil('B logged its leader', () => (/leader is 1\/\d+/.test(b.log()) ? true : undefined));
    expect(rows(a.db).length).toBeGreaterThanOrEqual(6);
    expect(rows(b.db)).toEqual(rows(a.db));
  });

  it('writes on either mount are applied on both, with identical rows', async () => {
    const [a, b] = nodes as [Node, Node];
    await waitUntil('B writable', () => (errnoOf(() => fs.writeFileSync(join(b.mnt, 'from-b.txt'), 'b\n')) === 'ok' ? true : undefined));
    fs.writeFileSync(join(a.mnt, 'from-a.txt'), 'a\n');
    await waitUntil('A sees B\'s file', () => (fs.readFileSync(join(a.mnt, 'from-b.txt'), 'utf8') === 'b\n' ? true : undefined));
    await waitUntil('B sees A\'s file', () => (fs.readFileSync(join(b.mnt, 'from-a.txt'), 'utf8') === 'a\n' ? true : undefined));
    // The same VMID cannot be taken twice: decided identically on both at delivery.
    fs.mkdirSync(join(b.mnt, 'nodes/node1/lxc'));
    expect(errnoOf(() => fs.writeFileSync(join(b.mnt, 'nodes/node1/lxc/100.conf'), 'x'))).toBe('EEXIST');
    fs.renameSync(join(a.mnt, 'from-a.txt'), join(a.mnt, 'renamed.txt'));
    await waitUntil('B sees the rename', () => (fs.existsSync(join(b.mnt, 'renamed.txt')) && !fs.existsSync(join(b.mnt, 'from-a.txt')) ? true : undefined));
    expect(rows(b.db)).toEqual(rows(a.db));
    // The periodic verify (1 s here) compares both trees' checksums.
    await waitUntil('a verify round', () => (/data verification successful/.test(a.log() + b.log()) ? true : undefined));
    expect(a.log() + b.log()).not.toMatch(/wrong checksum/);
  });

  it('an in-place edit of a guest config gives that guest a new version in .vmlist on both nodes', async () => {
    const [a, b] = nodes as [Node, Node];
    const vmlist = (n: Node) => JSON.parse(fs.readFileSync(join(n.mnt, '.vmlist'), 'utf8')) as { version: number; ids: Record<string, { node: string; type: string; version: number }> };
    const cfg = (n: Node) => join(n.mnt, 'nodes/node1/qemu-server/100.conf');
    const edits: [string, Node, () => void][] = [
      ['open without O_TRUNC + write on A', a, () => {
        const fd = fs.openSync(cfg(a), 'r+');
        fs.writeSync(fd, 'memory: 999\n', 0);
        fs.closeSync(fd);
      }],
      ['>> on B', b, () => expect(spawnSync('bash', ['-c', `echo 'cores: 2' >> '${cfg(b)}'`]).status).toBe(0)],
      ['cat > on A', a, () => expect(spawnSync('bash', ['-c', `printf 'memory: 1024\\n' | cat > '${cfg(a)}'`]).status).toBe(0)],
    ];
    for (const [what, , edit] of edits) {
      const before = [vmlist(a), vmlist(b)];
      edit();
      for (const [i, n] of [a, b].entries()) {
        const after = await waitUntil(`${what}: node ${i} sees a new version of guest 100`, () => {
          const l = vmlist(n);
          return l.ids['100']!.version > before[i]!.ids['100']!.version ? l : undefined;
        });
        expect(after.version).toBeGreaterThan(before[i]!.version);
        expect(after.ids['100']).toMatchObject({ node: 'node1', type: 'qemu' });
        expect(Math.max(...Object.values(after.ids).map((g) => g.version))).toBe(after.ids['100']!.version);
      }
    }
    await waitUntil('the same content on both', () => (fs.readFileSync(cfg(b), 'utf8') === 'memory: 1024\n' ? true : undefined));
  });

  it('one daemon stopping does not disturb the other', async () => {
    const [a, b] = nodes as [Node, Node];
    b.proc.kill('SIGTERM');
    const [code] = (await once(b.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    fs.writeFileSync(join(a.mnt, 'after-b.txt'), 'still here\n');
    expect(fs.readFileSync(join(a.mnt, 'after-b.txt'), 'utf8')).toBe('still here\n');
    expect(a.alive()).toBe(true);
  });
});
