// A pmxcfs-ts cluster in containers, as a library: startCluster() picks a free name and /24 out of
// 172.30.0.0/16, creates a labelled network, one labelled volume and one container per node (through
// testcontainers, see node-container.ts) and waits until corosync and every daemon are quorate.
// Partitions split the nodes into any groups; stop() removes everything carrying the cluster's label.
import { randomBytes } from 'crypto';
import * as os from 'os';
import { ClusterNode, type NodeIdentity } from './cluster-node';
import { parseConfigVersion, renderCorosyncConf } from './corosync-conf';
import { engine, engineAnswers, inspectContainer, isNotFound } from './dockerode-client';
import { LABEL, objectPrefix, validClusterName } from './labels';
import { ensureNodeImage } from './node-image';
import type { NodeStatus } from './node-status';
import { realtimeGrant } from './realtime';
import { freeSubnets, nodeAddress } from './subnets';
import { WaitTimeout, waitUntil } from './wait';

export type Log = (line: string) => void;
const quiet: Log = () => undefined;

export const MAX_NODES = 16;

export class ClusterError extends Error {
  override name = 'ClusterError';
}

export interface ClusterOptions {
  /** Number of nodes, node1..nodeN (1..16; default 3). */
  nodes?: number;
  /** Cluster name ([a-z0-9-], up to 31 characters); default: a random one. Must not exist yet. */
  name?: string;
  /** Label space: leftovers of crashed runs in the same space are removed at start. Default "default". */
  space?: string;
  /** The node image; default: built from this checkout (or reused when unchanged). */
  image?: string;
  /** Extra daemon arguments, e.g. "-l" (local mode). */
  daemonArgs?: string;
  /** Keep the cluster when this process ends (not a leftover): the CLI's clusters. */
  persistent?: boolean;
  /** Health wait after start (default 120 s). */
  timeoutMs?: number;
  /** totem.token and token_coefficient (ms); defaults 1000 and 250. */
  tokenMs?: number;
  tokenCoefficientMs?: number;
  /**
   * corosync at SCHED_RR 99 as on a host (default false: SCHED_OTHER, as a container gets it).
   * Gives the containers CAP_SYS_NICE and, where the kernel asks for one, a real-time budget
   * (lab/realtime.ts; may set the engine's cgroup budget, logged).
   */
  corosyncRealtime?: boolean;
  log?: Log;
}

export interface HealthOptions {
  /** Nodes to wait for (default: all). */
  nodes?: readonly string[];
  /** Members each must see (default: all nodes of the cluster). */
  members?: number;
  /** Also require each daemon quorate in /etc/pve/.members (default: true unless local mode). */
  daemonQuorate?: boolean;
  /** Require /etc/pve mounted (default true). */
  mounted?: boolean;
  timeoutMs?: number;
}

function ownerTag(persistent: boolean | undefined): string {
  return persistent ? 'persistent' : `${os.hostname()}:${process.pid}`;
}

function clusterLabels(name: string, space: string, owner: string): Record<string, string> {
  return { [LABEL.project]: '1', [LABEL.cluster]: name, [LABEL.space]: space, [LABEL.owner]: owner, [LABEL.created]: String(Date.now()) };
}

function localMode(args: string): boolean {
  return /(^|\s)(-l|--local)(\s|$)/.test(args);
}

export class Cluster {
  readonly nodes: ClusterNode[];

  constructor(
    readonly name: string,
    readonly space: string,
    readonly network: string,
    readonly subnet: string,
    readonly image: string,
    readonly daemonArgs: string,
    nodes: readonly NodeIdentity[],
    private readonly owner: string,
    /** corosync at real-time priority (ClusterOptions.corosyncRealtime). */
    readonly corosyncRealtime = false,
  ) {
    this.nodes = [...nodes].sort((a, b) => a.nodeid - b.nodeid).map((n) => new ClusterNode(n, network));
  }

  get nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** A node by name ("node1"); throws for an unknown name. */
  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new ClusterError(`cluster ${this.name} has no node "${name}" (it has ${this.nodeNames.join(', ')})`);
    return n;
  }

  status(names: readonly string[] = this.nodeNames): Promise<NodeStatus[]> {
    return Promise.all(names.map((n) => this.node(n).status()));
  }

  /**
   * Split the network: each group can talk only within itself. Nodes named in no group form one more
   * group together, so `partition(['node3'])` cuts node3 off from the rest. Replaces any earlier
   * partition. Done with blackhole routes inside the nodes (the links stay up, packets to the other
   * side are dropped), so any grouping is possible on one network.
   */
  async partition(...groups: ReadonlyArray<readonly string[]>): Promise<void> {
    const blocked = blockedPeers(this.nodes, groups);
    await Promise.all(
      this.nodes.map(async (n) => {
        if (await n.running()) await this.setBlocked(n, blocked.get(n.name)!);
      }),
    );
  }

  /** Cut the named nodes off, each one alone (the others stay together). */
  isolate(...names: string[]): Promise<void> {
    return this.partition(...names.map((n) => [n]));
  }

  /** Undo every partition: routes removed, and any node taken off the network reattached at its address. */
  async heal(): Promise<string[]> {
    const healed: string[] = [];
    await Promise.all(
      this.nodes.map(async (n) => {
        const st = await inspectContainer(n.container);
        if (!st.exists) return;
        let changed = false;
        if (!(this.network in st.networks)) {
          await engine().getNetwork(this.network).connect({ Container: n.container, EndpointConfig: { IPAMConfig: { IPv4Address: n.ip } } });
          changed = true;
        }
        if (st.running) changed = (await this.setBlocked(n, [])) || changed;
        if (changed) healed.push(n.name);
      }),
    );
    return healed.sort();
  }

  /** Take a node off the cluster network entirely (docker network disconnect; heal() reattaches it). */
  async disconnect(name: string): Promise<void> {
    const n = this.node(name);
    await engine().getNetwork(this.network).disconnect({ Container: n.container, Force: true });
  }

  /** Make `ips` unreachable from the node (and nothing else); true when something changed. */
  private async setBlocked(n: ClusterNode, ips: readonly string[]): Promise<boolean> {
    const want = ips.map((ip) => `ip route add blackhole ${ip}/32`).join('; ');
    const script =
      `old=$(ip -4 route show type blackhole | awk '{print $2}' | sort | tr '\\n' ' '); ` +
      `for r in $old; do ip route del blackhole "$r"; done; ${want}${want ? '; ' : ''}` +
      `new=$(ip -4 route show type blackhole | awk '{print $2}' | sort | tr '\\n' ' '); [ "$old" = "$new" ] && echo same || echo changed`;
    const r = await n.sh(script);
    if (r.code !== 0) throw new ClusterError(`setting routes on ${n.name} failed: ${(r.stderr + r.stdout).trim()}`);
    return r.stdout.trim() === 'changed';
  }

  /**
   * Wait until the nodes run, corosync is quorate with the expected members, /etc/pve is mounted and
   * (in cluster mode) each daemon is quorate. Fails early, with the last log lines, when a container
   * exits or a daemon dies.
   */
  async waitHealthy(opts: HealthOptions = {}): Promise<NodeStatus[]> {
    const names = opts.nodes ?? this.nodeNames;
    const members = opts.members ?? this.nodes.length;
    const mounted = opts.mounted ?? true;
    const daemonQuorate = opts.daemonQuorate ?? !localMode(this.daemonArgs);
    let last: NodeStatus[] = [];
    const ok = (s: NodeStatus): boolean =>
      s.container === 'running' &&
      s.quorum?.quorate === true &&
      s.quorum.members.length === members &&
      (!mounted || s.mounted) &&
      (!daemonQuorate || s.daemonQuorate === true);
    try {
      const { value } = await waitUntil(
        `${names.join(', ')} quorate with ${members} members${mounted ? ', /etc/pve mounted' : ''}${daemonQuorate ? ', daemons quorate' : ''}`,
        async () => {
          last = await this.status(names);
          for (const s of last) {
            if (s.container === 'exited' || s.container === 'absent') throw new ClusterError(`${s.node} is ${s.container}\n${await this.explain([s.node], last)}`);
            if (mounted && s.daemonInImage && !s.daemonPid && supervisedDaemonExited(await this.node(s.node).logs(200)))
              throw new ClusterError(`the pmxcfs-ts daemon on ${s.node} exited (it is not restarted)\n${await this.explain([s.node], last)}`);
          }
          return last;
        },
        (all) => all.every(ok),
        { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 300 },
      );
      return value;
    } catch (e) {
      if (e instanceof WaitTimeout) throw new ClusterError(`${e.message}\n${await this.explain(names, last)}`);
      throw e;
    }
  }

  /** Every node (or the named ones) quorate in corosync and in its daemon. */
  async waitQuorate(names: readonly string[] = this.nodeNames, opts: { members?: number; timeoutMs?: number } = {}): Promise<void> {
    await Promise.all(names.map((n) => this.node(n).waitQuorate(true, { daemon: !localMode(this.daemonArgs), ...opts })));
  }

  /** The nodes' state and last log lines, for error messages. */
  async explain(names: readonly string[], last: readonly NodeStatus[] = []): Promise<string> {
    const parts: string[] = [];
    for (const name of names) {
      const s = last.find((x) => x.node === name);
      parts.push(`--- ${name}: ${s ? describeStatus(s) : 'no status'}; last log lines:\n${await this.node(name).logs(25)}`);
    }
    return parts.join('\n');
  }

  /**
   * Grow the cluster by one node, the way PVE does: a corosync.conf with the new node and
   * config_version + 1 written as /etc/pve/corosync.conf on the first running node (pmxcfs-ts puts
   * it into /etc/corosync everywhere and corosync reloads), then the new node starts from it and the
   * cluster waits for all members. `direct` writes /etc/corosync/corosync.conf on each node itself.
   */
  async addNode(opts: { direct?: boolean; timeoutMs?: number; log?: Log } = {}): Promise<ClusterNode> {
    const log = opts.log ?? quiet;
    const nodeid = Math.max(...this.nodes.map((n) => n.nodeid)) + 1;
    if (this.nodes.length >= MAX_NODES) throw new ClusterError(`a cluster has at most ${MAX_NODES} nodes`);
    const id: NodeIdentity = { name: `node${nodeid}`, nodeid, ip: nodeAddress(this.subnet, nodeid), container: `${objectPrefix(this.name)}-node${nodeid}` };
    const running: ClusterNode[] = [];
    for (const n of this.nodes) if (await n.running()) running.push(n);
    const writer = running[0];
    if (!writer) throw new ClusterError('no node is running');
    const current = await writer.shOk('cat /etc/corosync/corosync.conf');
    const version = parseConfigVersion(current) + 1;
    const conf = renderCorosyncConf({ clusterName: this.name, configVersion: version, nodes: [...this.nodes, id] });
    if (opts.direct) {
      for (const n of running) await n.shOk('cat > /etc/corosync/corosync.conf.lab && mv /etc/corosync/corosync.conf.lab /etc/corosync/corosync.conf', { input: conf });
      await writer.shOk('corosync-cfgtool -R');
    } else {
      await writer.shOk('cat > /etc/pve/corosync.conf.new && mv /etc/pve/corosync.conf.new /etc/pve/corosync.conf', { input: conf });
    }
    log(`corosync.conf version ${version} with ${id.name} written${opts.direct ? ' directly' : ' to /etc/pve'}; waiting for every corosync to load it`);
    await waitUntil(
      `config_version ${version} in corosync on ${running.map((n) => n.name).join(', ')}`,
      () => Promise.all(running.map((n) => n.status())),
      (all) => all.every((s) => s.configVersion === version),
      { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 300 },
    );
    const authkey = await writer.copyOut('/etc/corosync/authkey');
    await this.startNodes([id], conf, authkey);
    this.nodes.push(new ClusterNode(id, this.network));
    log(`${id.name} started; waiting for ${this.nodes.length} members`);
    await this.waitHealthy({ timeoutMs: opts.timeoutMs ?? 120_000 });
    return this.node(id.name);
  }

  /**
   * A replacement machine for a dead node: its container and volume are removed and a new container
   * with the same name and address and an EMPTY /var/lib/pve-cluster is created. With `bare`
   * (default) it starts nothing (no corosync, no daemon, Debian's stock /etc/corosync): the operator
   * copies files in and starts the services by hand (docs/recovery.md).
   */
  async replaceNode(name: string, opts: { bare?: boolean } = {}): Promise<ClusterNode> {
    const n = this.node(name);
    await this.recreate(n, { bare: opts.bare !== false, keepVolume: false });
    return n;
  }

  /**
   * A new container for a node with the usual services, keeping its /var/lib/pve-cluster volume
   * (what `docker-compose up` did for a changed container): puts a replaced, bare node back in its
   * normal shape once a test is done with it.
   */
  async recreateNode(name: string): Promise<ClusterNode> {
    const n = this.node(name);
    await this.recreate(n, { bare: false, keepVolume: true });
    return n;
  }

  /** Is the node a bare replacement machine (replaceNode) that starts nothing by itself? */
  async isBare(name: string): Promise<boolean> {
    return (await inspectContainer(this.node(name).container)).labels[LABEL.bare] === '1';
  }

  private async recreate(n: ClusterNode, opts: { bare: boolean; keepVolume: boolean }): Promise<void> {
    // corosync.conf and authkey from a running member: the cluster's current ones.
    let seedFrom: ClusterNode | undefined;
    for (const x of this.nodes) if (x !== n && (await x.running()) && (await x.sh('test -f /etc/corosync/authkey')).code === 0) seedFrom ??= x;
    const conf = seedFrom ? await seedFrom.shOk('cat /etc/corosync/corosync.conf') : '';
    const key = seedFrom ? await seedFrom.copyOut('/etc/corosync/authkey') : randomBytes(256);
    if (!opts.bare && !seedFrom) throw new ClusterError(`no running node to take corosync.conf from for ${n.name}`);
    await engine().getContainer(n.container).remove({ force: true, v: true }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    if (!opts.keepVolume) await this.removeVolume(this.volumeName(n.name));
    await this.startNodes([n], conf, key, { bare: opts.bare });
  }

  /** Remove every container, volume and the network of this cluster (by its label). */
  async stop(): Promise<void> {
    await removeCluster(this.name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  volumeName(node: string): string {
    return `${objectPrefix(this.name)}-${node}-db`;
  }

  private async removeVolume(name: string): Promise<void> {
    await engine().getVolume(name).remove().catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /** @internal create the volumes and containers of `ids` and start them (in parallel). */
  async startNodes(ids: readonly NodeIdentity[], conf: string, authkey: Buffer, opts: { bare?: boolean; timeoutMs?: number; log?: Log } = {}): Promise<void> {
    const labels = clusterLabels(this.name, this.space, this.owner);
    // Loaded here: testcontainers takes a while to load, and status/exec/partition never need it.
    const { startNodeContainer } = await import('./node-container');
    const realtime = this.corosyncRealtime ? await realtimeGrant(this.nodes.length, opts.log ?? quiet) : undefined;
    await Promise.all(
      ids.map(async (id) => {
        const volume = this.volumeName(id.name);
        await engine().createVolume({ Name: volume, Labels: { ...labels, [LABEL.node]: id.name } });
        await startNodeContainer({
          image: this.image,
          containerName: id.container,
          hostname: id.name,
          network: this.network,
          ip: id.ip,
          volume,
          labels: {
            ...labels,
            [LABEL.node]: id.name,
            [LABEL.nodeid]: String(id.nodeid),
            [LABEL.ip]: id.ip,
            [LABEL.subnet]: this.subnet,
            [LABEL.daemonArgs]: this.daemonArgs,
            ...(opts.bare ? { [LABEL.bare]: '1' } : {}),
            ...(this.corosyncRealtime ? { [LABEL.realtime]: '1' } : {}),
          },
          realtime,
          env: { PMXCFS_ARGS: this.daemonArgs, LAB_BARE_HOST: opts.bare ? '1' : '0', PMXCFS_DISABLE: '0' },
          files: opts.bare
            ? []
            : [
                { path: '/etc/corosync-seed/corosync.conf', content: conf, mode: 0o644 },
                { path: '/etc/corosync-seed/authkey', content: authkey, mode: 0o400 },
              ],
          readyLog: /\[lab-entrypoint\] (starting corosync|LAB_BARE_HOST=1)/,
          startupTimeoutMs: opts.timeoutMs ?? 120_000,
        });
      }),
    );
  }
}

/**
 * For each node, the addresses it must not reach when the cluster is split into `groups` (pure).
 * Nodes named in no group form one more group together; a node named twice or unknown is an error.
 */
export function blockedPeers(
  nodes: ReadonlyArray<{ name: string; ip: string }>,
  groups: ReadonlyArray<readonly string[]>,
): Map<string, string[]> {
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) =>
    g.forEach((name) => {
      if (!nodes.some((n) => n.name === name)) throw new ClusterError(`unknown node "${name}" (the cluster has ${nodes.map((n) => n.name).join(', ')})`);
      if (groupOf.has(name)) throw new ClusterError(`${name} is in two groups`);
      groupOf.set(name, i);
    }),
  );
  for (const n of nodes) if (!groupOf.has(n.name)) groupOf.set(n.name, groups.length);
  return new Map(nodes.map((n) => [n.name, nodes.filter((p) => groupOf.get(p.name) !== groupOf.get(n.name)).map((p) => p.ip)]));
}

/**
 * Whether the entrypoint reports that its daemon exited since it last started one. A container's
 * log outlives a restart: an exit logged by the previous run (a test stopped the daemon, then
 * restarted the container) is not about the daemon the new run is still starting.
 */
export function supervisedDaemonExited(log: string): boolean {
  const exited = log.lastIndexOf('[lab-entrypoint] pmxcfs-ts exited');
  return exited >= 0 && exited > log.lastIndexOf('[lab-entrypoint] starting pmxcfs-ts');
}

export function describeStatus(s: NodeStatus): string {
  const q = s.quorum ? `${s.quorum.quorate ? 'quorate' : 'not quorate'}, members ${s.quorum.members.map((m) => m.name).join(' ')}` : 'corosync not answering';
  const d = s.daemonInImage ? (s.daemonPid ? `daemon pid ${s.daemonPid}` : 'daemon NOT running') : 'daemon not in image';
  return `container ${s.container}, ${q}, ${d}, /etc/pve ${s.mounted ? 'mounted' : 'not mounted'}`;
}

// ---- finding clusters by label ----

interface LabelledContainer {
  Names: string[];
  Labels: Record<string, string>;
  Image: string;
}

async function clusterContainers(name: string): Promise<LabelledContainer[]> {
  return (await engine().listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=1`, `${LABEL.cluster}=${name}`] },
  })) as LabelledContainer[];
}

/** The running (or stopped) cluster of that name, from its containers' labels; null when absent. */
export async function attachCluster(name: string): Promise<Cluster | null> {
  const cs = await clusterContainers(name);
  if (cs.length === 0) return null;
  const l = cs[0]!.Labels;
  const nodes: NodeIdentity[] = cs.map((c) => ({
    name: c.Labels[LABEL.node]!,
    nodeid: Number(c.Labels[LABEL.nodeid]),
    ip: c.Labels[LABEL.ip]!,
    container: c.Names[0]!.replace(/^\//, ''),
  }));
  return new Cluster(name, l[LABEL.space] ?? 'default', objectPrefix(name), l[LABEL.subnet]!, cs[0]!.Image, l[LABEL.daemonArgs] ?? '', nodes,
    l[LABEL.owner] ?? '', l[LABEL.realtime] === '1');
}

export interface ClusterSummary {
  name: string;
  space: string;
  owner: string;
  created: number;
  nodes: number;
}

/** Every lab cluster on this engine (all spaces), from container and network labels. */
export async function listClusters(): Promise<ClusterSummary[]> {
  const byName = new Map<string, ClusterSummary>();
  const add = (labels: Record<string, string>, isNode: boolean): void => {
    const name = labels[LABEL.cluster];
    if (!name) return;
    const s = byName.get(name) ?? { name, space: labels[LABEL.space] ?? '', owner: labels[LABEL.owner] ?? '', created: Number(labels[LABEL.created] ?? 0), nodes: 0 };
    if (isNode) s.nodes++;
    byName.set(name, s);
  };
  const filters = { label: [`${LABEL.project}=1`] };
  for (const c of await engine().listContainers({ all: true, filters })) add(c.Labels, true);
  for (const n of await engine().listNetworks({ filters })) add(n.Labels ?? {}, false);
  for (const v of (await engine().listVolumes({ filters })).Volumes ?? []) add(v.Labels ?? {}, false);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Remove a cluster's containers, volumes and network: only objects labelled with this project and name. */
export async function removeCluster(name: string): Promise<void> {
  const filters = { label: [`${LABEL.project}=1`, `${LABEL.cluster}=${name}`] };
  const ignoreGone = (e: unknown): void => {
    if (!isNotFound(e) && (e as { statusCode?: number }).statusCode !== 409) throw e;
  };
  const containers = await engine().listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => engine().getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)));
  const volumes = (await engine().listVolumes({ filters })).Volumes ?? [];
  await Promise.all(volumes.map((v) => engine().getVolume(v.Name).remove().catch(ignoreGone)));
  for (const n of await engine().listNetworks({ filters })) await engine().getNetwork(n.Id).remove().catch(ignoreGone);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is this summary a leftover: started by a process of this host that no longer exists? */
export function isLeftover(s: ClusterSummary, host = os.hostname(), alive: (pid: number) => boolean = processAlive): boolean {
  const m = /^(.*):(\d+)$/.exec(s.owner);
  return m !== null && m[1] === host && !alive(Number(m[2]));
}

/** Remove the clusters of a label space whose owning process (on this host) is gone. */
export async function removeLeftovers(space: string, log: Log = quiet): Promise<string[]> {
  const gone = (await listClusters()).filter((s) => s.space === space && isLeftover(s));
  for (const s of gone) {
    log(`removing leftover cluster ${s.name} (owner ${s.owner} is gone)`);
    await removeCluster(s.name);
  }
  return gone.map((s) => s.name);
}

// ---- starting ----

function overlapRefusal(e: unknown): boolean {
  const msg = String((e as { json?: { message?: string } }).json?.message ?? (e as Error).message ?? '');
  return /overlap|in use|conflict/i.test(msg);
}

async function createNetwork(name: string, labels: Record<string, string>): Promise<string> {
  const inUse: string[] = [];
  for (const n of await engine().listNetworks()) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) inUse.push(c.Subnet);
  const candidates = freeSubnets(inUse, randomBytes(1)[0]!);
  for (const subnet of candidates) {
    try {
      await engine().createNetwork({
        Name: name,
        CheckDuplicate: true,
        Driver: 'bridge',
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Labels: { ...labels, [LABEL.subnet]: subnet },
      });
      return subnet;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 409 && /already exists/i.test(String((e as Error).message))) throw new ClusterError(`network ${name} already exists`);
      if (!overlapRefusal(e)) throw e;
      // another cluster took this /24 a moment ago: try the next one
    }
  }
  throw new ClusterError('no free /24 left in 172.30.0.0/16');
}

/**
 * Start a cluster and wait until it is healthy (every node quorate in corosync and in its daemon,
 * /etc/pve mounted). On failure everything it created is removed again.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? quiet;
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new ClusterError(`nodes must be 1..${MAX_NODES}, not ${count}`);
  const name = opts.name ?? `c${randomBytes(3).toString('hex')}`;
  if (!validClusterName(name)) throw new ClusterError(`invalid cluster name "${name}" ([a-z0-9-], up to 31 characters)`);
  const space = opts.space ?? 'default';
  if (!(await engineAnswers())) throw new ClusterError('the Docker engine does not answer (DOCKER_HOST or /var/run/docker.sock; `npm run lab -- prepare` starts dockerd here)');
  await removeLeftovers(space, log);
  if ((await listClusters()).some((s) => s.name === name)) throw new ClusterError(`a cluster named ${name} already exists`);
  const image = opts.image ?? (await ensureNodeImage({ log }));
  const daemonArgs = opts.daemonArgs ?? '';
  const owner = ownerTag(opts.persistent);
  const network = objectPrefix(name);
  const t0 = Date.now();
  const subnet = await createNetwork(network, clusterLabels(name, space, owner));
  const ids: NodeIdentity[] = Array.from({ length: count }, (_, i) => ({
    name: `node${i + 1}`,
    nodeid: i + 1,
    ip: nodeAddress(subnet, i + 1),
    container: `${network}-node${i + 1}`,
  }));
  const cluster = new Cluster(name, space, network, subnet, image, daemonArgs, ids, owner, opts.corosyncRealtime ?? false);
  log(`cluster ${name}: network ${network} ${subnet}, ${count} node(s), image ${image}`);
  try {
    const conf = renderCorosyncConf({ clusterName: name, configVersion: 1, nodes: ids, tokenMs: opts.tokenMs, tokenCoefficientMs: opts.tokenCoefficientMs });
    await cluster.startNodes(ids, conf, randomBytes(256), { log });
    log(`containers started in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for quorum and /etc/pve`);
    await cluster.waitHealthy({ timeoutMs: opts.timeoutMs ?? 120_000 });
    log(`cluster ${name} healthy ${((Date.now() - t0) / 1000).toFixed(1)} s after the network was made`);
    return cluster;
  } catch (e) {
    await removeCluster(name).catch(() => undefined);
    throw e;
  }
}
