// What a user would check by hand on the lab's nodes: the daemon's own status (`pmxcfs-ts status
// --json`), the rows of each node's config.db, the files seen through /etc/pve, and the status files.
// Plus the waits the scenarios share (convergence, daemon restarts).
import { expect } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { DAEMON_PATTERN, type ClusterNode } from '../../lab/cluster-node';
import { BASE_NODES, ensureLab, lab, shIn, type NodeStatus } from './lab-fixture';

/** A node of the suite's cluster by name, or a node of any cluster. */
export type NodeRef = string | ClusterNode;

export async function nodeOf(n: NodeRef): Promise<ClusterNode> {
  return typeof n === 'string' ? (await lab()).node(n) : n;
}

export const NAMES = BASE_NODES.map((n) => n.name);
export const DB = '/var/lib/pve-cluster/config.db';

/** A shell snippet that must succeed; returns its stdout. */
export async function shOk(node: string, script: string, timeoutMs = 60_000): Promise<string> {
  const r = await shIn(node, script, { timeoutMs });
  if (r.code !== 0) throw new Error(`${node}: \`${script}\` failed (status ${r.code}): ${(r.stderr + r.stdout).trim()}`);
  return r.stdout;
}

/** `pmxcfs-ts status --json` on a node (null when the daemon does not answer). */
export async function daemonStatus(node: NodeRef): Promise<DaemonStatus | null> {
  const r = await (await nodeOf(node)).exec(['pmxcfs-ts', 'status', '--json', '--log=0'], { timeoutMs: 60_000 });
  try {
    return (JSON.parse(r.stdout) as { status: DaemonStatus | null }).status;
  } catch {
    return null;
  }
}

export interface DaemonStatus {
  nodename: string;
  mode: string;
  quorate: boolean;
  nodeid: number;
  version: number;
  memdbErrors: boolean;
  members: { name: string; nodeid: number; online: boolean; ip?: string }[];
  locks: { name: string; writer: number; mtime: number; age: number; expiresIn: number }[];
  dfsm?: Record<'dcdb' | 'kvstore', { mode: string; joined: boolean; members: unknown[]; queued: number; waiting: number }>;
}

/** Everything one node holds of the tree, in forms that must be identical across synced nodes. */
export interface TreeView {
  node: string;
  version: number | null; // the daemon's memdb version
  healthy: boolean; // no memdb error flag, dcdb not in an error mode
  dbRows: number; // rows in config.db (incl. the __version__ row)
  dbDigest: string; // sha256 of every row of config.db, ordered by inode
  mountDigest: string; // sha256 of names, types, sizes and contents seen under /etc/pve
}

// Every row, data as hex; the sqlite3 shell reads the WAL the daemon commits to. The type of the
// __version__ row is left out: a node that took the tree in a sync stores it with the root's type
// (4), as the reference does, the others with 8.
const DB_DUMP = `sqlite3 -readonly ${DB} "SELECT inode,parent,version,writer,mtime,CASE WHEN inode = 0 THEN 0 ELSE type END,name,hex(data) FROM tree ORDER BY inode"`;
// The real entries under /etc/pve: the top-level dot names are the daemon's virtual status files and
// the symlinks point to the node's own directory, so both differ between nodes by design.
const MOUNT_DUMP =
  "cd /etc/pve && find . -mindepth 1 ! -path './.*' ! -type l -printf '%y %p %s\\n' | LC_ALL=C sort && " +
  "find . -mindepth 1 ! -path './.*' -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum";

export async function treeView(ref: NodeRef): Promise<TreeView> {
  const n = await nodeOf(ref);
  const [status, db, mount] = await Promise.all([
    daemonStatus(n),
    n.sh(`${DB_DUMP} | wc -l; ${DB_DUMP} | sha256sum`, { timeoutMs: 60_000 }),
    n.sh(`timeout 50 sh -c "${MOUNT_DUMP.replace(/"/g, '\\"')}" | sha256sum`, { timeoutMs: 60_000 }),
  ]);
  const [rows, digest] = db.stdout.trim().split('\n');
  return {
    node: n.name,
    version: status?.version ?? null,
    healthy: status !== null && !status.memdbErrors && !/ERROR/.test(status.dfsm?.dcdb.mode ?? ''),
    dbRows: Number(rows),
    dbDigest: db.code === 0 ? (digest ?? '').split(' ')[0]! : `error: ${db.stderr.trim()}`,
    mountDigest: mount.code === 0 ? mount.stdout.split(' ')[0]! : `error: ${mount.stderr.trim()}`,
  };
}

function sameTree(views: readonly TreeView[]): boolean {
  const [a] = views;
  return (
    a !== undefined &&
    a.version !== null &&
    views.every((v) => v.healthy && v.version === a.version && v.dbDigest === a.dbDigest && v.mountDigest === a.mountDigest && !v.dbDigest.startsWith('error'))
  );
}

/**
 * Wait until every named node has the same memdb version, the same config.db rows and the same
 * files under /etc/pve; then assert it (so a failure shows the differing views).
 */
export async function expectConverged(nodes: readonly NodeRef[] = NAMES, timeoutMs = 90_000): Promise<TreeView[]> {
  let last: TreeView[] = [];
  try {
    await waitUntil(
      `identical trees on ${nodes.map((n) => (typeof n === 'string' ? n : n.name)).join(', ')}`,
      async () => (last = await Promise.all(nodes.map(treeView))),
      sameTree,
      { timeoutMs, intervalMs: 1000 },
    );
  } catch (e) {
    if (last.length === 0) throw e; // no view at all: the probe itself failed
    // else fall through to the assertions, which show the differing views
  }
  const first = last[0]!;
  for (const v of last) expect(v.healthy, `${v.node}: memdb errors or dcdb in an error mode`).toBe(true);
  for (const v of last) expect({ ...v, node: first.node }, `${v.node} against ${first.node}`).toEqual(first);
  return last;
}

/** Wait until the daemon on a node reports the given quorum state (its own view, from .members). */
export async function waitDaemonQuorate(node: NodeRef, quorate: boolean, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `pmxcfs-ts on ${typeof node === 'string' ? node : node.name} ${quorate ? 'quorate' : 'not quorate'}`,
    () => daemonStatus(node),
    (s) => s !== null && s.quorate === quorate,
    { timeoutMs, intervalMs: 300 },
  );
}

/** Wait until each node's dcdb DFSM is synced with the given number of members. */
export async function waitDcdbSynced(nodes: readonly NodeRef[], members: number, timeoutMs = 60_000): Promise<void> {
  for (const node of nodes) {
    await waitUntil(
      `dcdb on ${typeof node === 'string' ? node : node.name} synced with ${members} members`,
      () => daemonStatus(node),
      (s) => {
        const d = s?.dfsm?.dcdb;
        return d !== undefined && d.mode === 'SYNCED' && d.members.length === members;
      },
      { timeoutMs, intervalMs: 300 },
    );
  }
}

/** The daemon pid on a node, or null. */
export async function daemonPid(node: string): Promise<number | null> {
  const r = await shIn(node, `pgrep -f ${DAEMON_PATTERN} | head -n 1`);
  const pid = Number(r.stdout.trim());
  return pid > 0 ? pid : null;
}

/**
 * Start the daemon again inside a running container (corosync keeps running), the way the entrypoint
 * does, with extra environment. Its output goes to /var/log/pmxcfs-ts-exec.log in the container.
 * The entrypoint does not supervise this process: `restartContainer` puts the node back in shape.
 */
export async function execDaemon(node: string, env: Record<string, string> = {}): Promise<void> {
  await (await lab()).node(node).startDaemon(env);
}

/** Wait until /etc/pve on the node is no FUSE mount any more (the entrypoint unmounts a dead daemon's). */
export async function waitUnmounted(node: NodeRef, timeoutMs = 60_000): Promise<void> {
  await (await nodeOf(node)).waitMounted(false, timeoutMs);
}

/** Stop the daemon on a node (SIGTERM, or SIGKILL) and wait until its mount is gone. */
export async function stopDaemon(node: string, signal: 'TERM' | 'KILL'): Promise<number> {
  return (await lab()).node(node).killDaemon(signal);
}

/**
 * Reboot a node: the entrypoint starts corosync and a supervised daemon again (used to put a node
 * back in its normal shape after a test ran its own daemon in it).
 */
export async function restartContainer(node: string): Promise<NodeStatus[]> {
  const c = await lab();
  await c.node(node).restart();
  return c.waitHealthy({ nodes: [node], daemonQuorate: false, timeoutMs: 90_000 });
}

/** Parse a JSON status file of the mount. */
export async function readJsonFile<T>(node: string, file: string): Promise<T> {
  return JSON.parse(await shOk(node, `timeout 10 cat /etc/pve/${file}`)) as T;
}

/** Remove a directory tree under /etc/pve on a node if it exists (leftovers of an earlier run). */
export async function removeTree(node: string, rel: string): Promise<void> {
  await shOk(node, `rm -rf /etc/pve/${rel}`, 120_000);
}

/**
 * The lab up (see ensureLab) and, beyond what corosync says, every daemon quorate and its dcdb
 * synced with all three: a freshly (re)created lab answers EACCES until the daemons caught up.
 */
export async function ensureCluster(): Promise<void> {
  await ensureLab();
  for (const n of NAMES) await waitDaemonQuorate(n, true);
  await waitDcdbSynced(NAMES, NAMES.length);
}

interface MembersFile {
  cluster?: { quorate: number; nodes: number };
  nodelist?: Record<string, { id: number; online: number; ip?: string }>;
}

/**
 * Wait until `.members` on every named node lists `members` as online (with their address) and the
 * cluster as quorate, then assert it: what `pvecm status`-minded users look at after a heal.
 */
export async function expectMembersOnline(nodes: readonly string[], members: readonly string[] = nodes, timeoutMs = 60_000): Promise<void> {
  const want = (m: MembersFile): Record<string, number> =>
    Object.fromEntries(Object.entries(m.nodelist ?? {}).map(([name, n]) => [name, n.online && n.ip ? 1 : 0]));
  const expected = Object.fromEntries(members.map((n) => [n, 1]));
  let last: MembersFile[] = [];
  await waitUntil(
    `${members.join(', ')} online in .members on ${nodes.join(', ')}`,
    async () => (last = await Promise.all(nodes.map((n) => readJsonFile<MembersFile>(n, '.members').catch((): MembersFile => ({}))))),
    (all) => all.every((m) => m.cluster?.quorate === 1 && JSON.stringify(want(m)) === JSON.stringify(expected)),
    { timeoutMs, intervalMs: 500 },
  ).catch(() => undefined);
  last.forEach((m, i) => {
    expect(m.cluster?.quorate, `${nodes[i]} quorate in .members`).toBe(1);
    expect(want(m), `${nodes[i]} .members online flags`).toEqual(expected);
  });
}
