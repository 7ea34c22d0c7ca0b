// The lab's operations, shared by the CLI (lab/cli.ts) and the end-to-end tests (test/lab).
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseConfigVersion, renderCorosyncConf } from './corosync-conf';
import { compose, connect, containerState, disconnect, docker, killNode, logsTail, shIn, startNode } from './docker';
import { prepareHost, removeStaleNodeImages, type Log } from './engine';
import { nodeStatus, type NodeStatus } from './node-status';
import { ALL_NODES, BASE_NODES, CLUSTER_NAME, EXTRA_NODE, labPaths, nodeByName, type LabNode, type LabPaths } from './topology';
import { WaitTimeout, waitUntil } from './wait';

export const quiet: Log = () => undefined;

export class LabError extends Error {
  override name = 'LabError';
}

export function requireNode(name: string): LabNode {
  const n = nodeByName(name);
  if (!n) throw new LabError(`unknown node "${name}" (the lab has ${ALL_NODES.map((x) => x.name).join(', ')})`);
  return n;
}

// ---- generated corosync.conf + authkey (.lab/corosync) ----

/** Write a fresh 3-node corosync.conf (version 1) and authkey unless the lab already has them. */
export function ensureSeed(p: LabPaths, log: Log): void {
  const conf = path.join(p.seedDir, 'corosync.conf');
  const key = path.join(p.seedDir, 'authkey');
  if (fs.existsSync(conf) && fs.existsSync(key)) return;
  fs.mkdirSync(p.seedDir, { recursive: true });
  fs.writeFileSync(conf, renderCorosyncConf({ clusterName: CLUSTER_NAME, configVersion: 1, nodes: BASE_NODES }));
  fs.writeFileSync(key, randomBytes(256), { mode: 0o400 });
  log(`generated ${conf} (3 nodes, config_version 1) and a new authkey`);
}

export function readSeedConf(p: LabPaths): string {
  return fs.readFileSync(path.join(p.seedDir, 'corosync.conf'), 'utf8');
}

// ---- daemon arguments remembered for later compose calls (add, start) ----

function composeEnv(p: LabPaths): NodeJS.ProcessEnv {
  const f = path.join(p.stateDir, 'daemon-args');
  const args = process.env.PMXCFS_ARGS ?? (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : '');
  return { ...process.env, PMXCFS_ARGS: args };
}

// ---- waiting for health ----

export interface HealthOptions {
  timeoutMs?: number;
  /** Members every node must see; default: the nodes waited for. */
  members?: number;
  /** Require /etc/pve mounted when the image contains the daemon (default true). */
  requireMount?: boolean;
  /**
   * Also require every daemon to report quorum in /etc/pve/.members (cluster mode up and running,
   * not only mounted). Default false.
   */
  requireDaemonQuorate?: boolean;
}

function healthy(s: NodeStatus, members: number, requireMount: boolean, requireDaemonQuorate: boolean): boolean {
  if (s.container !== 'running' || !s.quorum?.quorate || s.quorum.members.length !== members) return false;
  if (!s.daemonInImage || process.env.PMXCFS_DISABLE === '1') return true;
  if (requireMount && !s.mounted) return false;
  return !requireDaemonQuorate || s.daemonQuorate === true;
}

async function explainFailure(nodes: readonly LabNode[], last: NodeStatus[] | undefined): Promise<string> {
  const parts: string[] = [];
  for (const n of nodes) {
    const s = last?.find((x) => x.node === n.name);
    parts.push(`--- ${n.name}: ${s ? describe(s) : 'no status'}; last log lines:\n${await logsTail(n.name, 25)}`);
  }
  return parts.join('\n');
}

export function describe(s: NodeStatus): string {
  const q = s.quorum ? `${s.quorum.quorate ? 'quorate' : 'not quorate'}, members ${s.quorum.members.map((m) => m.name).join(' ')}` : 'corosync not answering';
  const d = s.daemonInImage ? (s.daemonPid ? `daemon pid ${s.daemonPid}` : 'daemon NOT running') : 'daemon not in image';
  return `container ${s.container}, ${q}, ${d}, /etc/pve ${s.mounted ? 'mounted' : 'not mounted'}`;
}

/** Did a node's daemon exit? The entrypoint says so in the log and never restarts it. */
async function daemonDied(node: string): Promise<boolean> {
  const r = await docker(['logs', '--tail', '200', node], { timeoutMs: 15_000 });
  return /\[lab-entrypoint\] pmxcfs-ts exited/.test(r.stdout + r.stderr);
}

/**
 * Wait until every node is running, corosync-quorumtool says quorate with the expected members and
 * (when the image has the daemon) /etc/pve is mounted. Fails early, with the node's last log lines,
 * when a container exits or a daemon dies.
 */
export async function waitHealthy(nodes: readonly LabNode[], opts: HealthOptions = {}): Promise<NodeStatus[]> {
  const members = opts.members ?? nodes.length;
  const requireMount = opts.requireMount ?? true;
  const requireDaemonQuorate = opts.requireDaemonQuorate ?? false;
  let last: NodeStatus[] | undefined;
  try {
    const { value } = await waitUntil(
      `${nodes.map((n) => n.name).join(', ')} quorate with ${members} members${requireMount ? ' and /etc/pve mounted' : ''}`,
      async () => {
        last = await Promise.all(nodes.map(nodeStatus));
        for (const s of last) {
          const only = nodes.filter((n) => n.name === s.node);
          if (s.container === 'exited' || s.container === 'absent')
            throw new LabError(`${s.node} is ${s.container}\n${await explainFailure(only, last)}`);
          if (requireMount && s.daemonInImage && !s.daemonPid && (await daemonDied(s.node)))
            throw new LabError(
              `the pmxcfs-ts daemon on ${s.node} exited (it is not restarted; \`up --recreate\` starts fresh containers)\n` +
                (await explainFailure(only, last)),
            );
        }
        return last;
      },
      (all) => all.every((s) => healthy(s, members, requireMount, requireDaemonQuorate)),
      { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 500 },
    );
    return value;
  } catch (e) {
    if (e instanceof WaitTimeout) throw new LabError(`${e.message}\n${await explainFailure(nodes, last)}`);
    throw e;
  }
}

/** Wait until a node's corosync reports the given quorate state (and, optionally, member count). */
export async function waitQuorate(
  node: LabNode,
  quorate: boolean,
  opts: { timeoutMs?: number; members?: number } = {},
): Promise<{ status: NodeStatus; elapsedMs: number }> {
  const r = await waitUntil(
    `${node.name} ${quorate ? 'quorate' : 'not quorate'}${opts.members ? ` with ${opts.members} members` : ''}`,
    () => nodeStatus(node),
    (s) =>
      s.quorum !== null &&
      s.quorum.quorate === quorate &&
      (opts.members === undefined || s.quorum.members.length === opts.members),
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250 },
  );
  return { status: r.value, elapsedMs: r.elapsedMs };
}

// ---- lifecycle ----

export interface UpOptions {
  log?: Log;
  build?: boolean; // rebuild the node image (default true; the layer cache makes it quick)
  daemonArgs?: string; // PMXCFS_ARGS, e.g. "-l"
  recreate?: boolean; // new containers even when the running ones are up to date (volumes are kept)
  timeoutMs?: number;
}

export interface UpResult {
  statuses: NodeStatus[];
  timings: Record<string, number>; // ms per phase
}

export async function labUp(opts: UpOptions = {}): Promise<UpResult> {
  const log = opts.log ?? quiet;
  const p = labPaths();
  const timings: Record<string, number> = {};
  let t = Date.now();
  const phase = (name: string): void => {
    timings[name] = Date.now() - t;
    t = Date.now();
  };
  await prepareHost(p, log, { build: opts.build });
  phase('prepare');
  ensureSeed(p, log);
  if (opts.daemonArgs !== undefined) fs.writeFileSync(path.join(p.stateDir, 'daemon-args'), opts.daemonArgs + '\n');
  log('starting node1 node2 node3');
  const upArgs = ['up', '-d', ...(opts.recreate ? ['--force-recreate'] : []), ...BASE_NODES.map((n) => n.name)];
  const r = await compose(upArgs, { env: composeEnv(p), timeoutMs: 300_000 });
  if (r.code !== 0) throw new LabError(`docker-compose up failed (status ${r.code}):\n${(r.stderr + r.stdout).trim()}`);
  phase('compose');
  // In cluster mode (no -l for the daemons) wait until every daemon has quorum too: right after the
  // mount a daemon has not read cmap yet and still shows the local form of .members.
  const clusterMode = !/(^|\s)(-l|--local)(\s|$)/.test(composeEnv(p).PMXCFS_ARGS ?? '');
  log(`waiting for corosync quorum and /etc/pve on every node${clusterMode ? ', and the daemons\' quorum' : ''}`);
  const statuses = await waitHealthy(BASE_NODES, { timeoutMs: opts.timeoutMs ?? 120_000, requireDaemonQuorate: clusterMode });
  phase('healthy');
  await removeStaleNodeImages(); // the containers now run the new image
  return { statuses, timings };
}

/** Remove the lab's containers, network and volumes (compose project pmxcfs-lab only). */
export async function labDown(log: Log = quiet): Promise<void> {
  const p = labPaths();
  const r = await compose(['--profile', 'add', 'down', '--volumes', '--remove-orphans', '--timeout', '20'], {
    timeoutMs: 300_000,
  });
  if (r.code !== 0) throw new LabError(`docker-compose down failed (status ${r.code}):\n${(r.stderr + r.stdout).trim()}`);
  // The next lab starts from a 3-node config_version 1 with a new key.
  fs.rmSync(p.seedDir, { recursive: true, force: true });
  fs.rmSync(path.join(p.stateDir, 'daemon-args'), { force: true });
  log('lab removed (containers, network pmxcfs-lab, volumes)');
}

export async function labStatus(nodes: readonly LabNode[] = ALL_NODES): Promise<NodeStatus[]> {
  const all = await Promise.all(nodes.map(nodeStatus));
  // node4 is listed only once it exists.
  return all.filter((s) => s.container !== 'absent' || BASE_NODES.some((n) => n.name === s.node));
}

/** Cut each named node off the lab network (each one alone: a set of isolated nodes). */
export async function partition(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const n = requireNode(name);
    const st = await containerState(n.name);
    if (!st.running) throw new LabError(`${n.name} is not running (${st.status})`);
    if (!(await isAttached(n))) continue;
    await disconnect(n);
  }
}

async function isAttached(n: LabNode): Promise<boolean> {
  const st = await containerState(n.name);
  return Object.keys(st.networks).includes('pmxcfs-lab');
}

/** Reconnect the named nodes (default: every lab node that is cut off) with their fixed address. */
export async function heal(names: readonly string[] = []): Promise<string[]> {
  const targets = names.length ? names.map(requireNode) : ALL_NODES;
  const healed: string[] = [];
  for (const n of targets) {
    const st = await containerState(n.name);
    if (!st.exists) continue;
    if (await isAttached(n)) continue;
    await connect(n);
    healed.push(n.name);
  }
  return healed;
}

/** SIGKILL the container, as a fencing device would: no shutdown of corosync or the daemon. */
export async function fence(name: string): Promise<void> {
  await killNode(requireNode(name));
}

export async function start(name: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<NodeStatus[]> {
  const n = requireNode(name);
  await startNode(n);
  if (opts.wait === false) return [];
  return waitHealthy([n], { members: await expectedMembers(), timeoutMs: opts.timeoutMs ?? 90_000 });
}

/** How many nodes the cluster has now: the nodelist of the lab's current corosync.conf. */
async function expectedMembers(): Promise<number> {
  const conf = readSeedConf(labPaths());
  return (conf.match(/\bnodeid:/g) ?? []).length;
}

// ---- add: node4 joins the running cluster ----

export interface AddOptions {
  log?: Log;
  /** Write /etc/corosync/corosync.conf on each node directly instead of through /etc/pve. */
  direct?: boolean;
  timeoutMs?: number;
}

/**
 * The way a cluster grows: a corosync.conf with four nodes and a higher config_version is written
 * to /etc/pve/corosync.conf on node1 (as corosync.conf.new, renamed over, like PVE tooling); each
 * pmxcfs writes it to /etc/corosync and the originating node reloads corosync cluster-wide. Then
 * node4 starts with the same file and joins. `direct` skips pmxcfs, for while cluster mode is absent.
 */
export async function addNode(opts: AddOptions = {}): Promise<NodeStatus[]> {
  const log = opts.log ?? quiet;
  const p = labPaths();
  if ((await containerState(EXTRA_NODE.name)).exists) throw new LabError(`${EXTRA_NODE.name} already exists`);
  const oldConf = readSeedConf(p);
  const version = parseConfigVersion(oldConf) + 1;
  const conf = renderCorosyncConf({ clusterName: CLUSTER_NAME, configVersion: version, nodes: ALL_NODES });
  const writer = BASE_NODES[0]!;

  if (opts.direct) {
    for (const n of BASE_NODES) {
      const r = await shIn(n.name, 'cat > /etc/corosync/corosync.conf.lab && mv /etc/corosync/corosync.conf.lab /etc/corosync/corosync.conf', {
        input: conf,
      });
      if (r.code !== 0) throw new LabError(`writing corosync.conf on ${n.name} failed: ${r.stderr.trim()}`);
    }
    const r = await shIn(writer.name, 'corosync-cfgtool -R');
    if (r.code !== 0) throw new LabError(`corosync-cfgtool -R failed: ${(r.stderr + r.stdout).trim()}`);
    log(`wrote corosync.conf version ${version} on ${BASE_NODES.map((n) => n.name).join(', ')} and reloaded`);
  } else {
    const s = await nodeStatus(writer);
    if (!s.mounted)
      throw new LabError(`/etc/pve is not mounted on ${writer.name}; use --direct to bypass pmxcfs (${describe(s)})`);
    const r = await shIn(writer.name, 'cat > /etc/pve/corosync.conf.new && mv /etc/pve/corosync.conf.new /etc/pve/corosync.conf', {
      input: conf,
    });
    if (r.code !== 0) throw new LabError(`writing /etc/pve/corosync.conf on ${writer.name} failed: ${r.stderr.trim()}`);
    log(`wrote /etc/pve/corosync.conf (config_version ${version}, 4 nodes) on ${writer.name}; waiting for pmxcfs to distribute it`);
    if (s.daemonMode === 'local') log(`warning: /etc/pve/.members on ${writer.name} has no cluster section (local mode?)`);
  }

  // Every running member must have the new version in corosync's cmap (so also in /etc/corosync).
  let seen: NodeStatus[] = [];
  try {
    await waitUntil(
      `config_version ${version} in /etc/corosync/corosync.conf and corosync on every node`,
      async () => (seen = await Promise.all(BASE_NODES.map(nodeStatus))),
      (all) => all.every((s) => s.configVersion === version),
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 500 },
    );
  } catch (e) {
    if (e instanceof WaitTimeout) {
      const have = seen.map((s) => `${s.node} ${s.configVersion ?? '?'}`).join(', ');
      throw new LabError(`${e.message} (corosync has: ${have}): did pmxcfs-ts distribute corosync.conf? (--direct bypasses it)`);
    }
    throw e;
  }
  fs.writeFileSync(path.join(p.seedDir, 'corosync.conf'), conf); // node4 starts from it
  log(`starting ${EXTRA_NODE.name}`);
  const r = await compose(['up', '-d', EXTRA_NODE.name], { env: composeEnv(p), timeoutMs: 300_000 });
  if (r.code !== 0) throw new LabError(`docker-compose up ${EXTRA_NODE.name} failed:\n${(r.stderr + r.stdout).trim()}`);
  return waitHealthy(ALL_NODES, { timeoutMs: opts.timeoutMs ?? 120_000 });
}
