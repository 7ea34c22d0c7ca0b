// One node of a lab cluster, as a test sees it: run commands, read and write files with their errno,
// its status, and what can happen to a machine (fenced, stopped, started, its daemon or corosync
// killed and started again). Every engine call goes through dockerode.
import { engine, containerLogs, execInContainer, inspectContainer, type ExecOptions, type ExecResult } from './dockerode-client';
import { probeNodeStatus, type NodeStatus } from './node-status';
import { policyOfChrt } from './realtime';
import { tarOneFile, untarFirstFile } from './tar';
import { waitUntil } from './wait';

export const DAEMON_MAIN = '/opt/pmxcfs-ts/dist/src/main.js';
export const DB_PATH = '/var/lib/pve-cluster/config.db';
/**
 * pgrep -f pattern of a node's daemon: node, any V8 flags (the entrypoint gives --max-semi-space-size),
 * main.js, then options or nothing, so `pmxcfs-ts status` (main.js with a subcommand) is not matched.
 */
export const DAEMON_PATTERN = "'^(/usr/local/bin/)?node( --[^ ]+)* /opt/pmxcfs-ts/dist/src/main[.]js( -|$)'";

/** A file operation inside a node failed: `code` is the errno name (EACCES, ENOENT, ...). */
export class NodeFsError extends Error {
  constructor(readonly node: string, readonly op: string, readonly path: string, readonly code: string) {
    super(`${op} ${path} on ${node}: ${code}`);
    this.name = 'NodeFsError';
  }
}

// Run by the image's own node: one fs call, bytes on stdin/stdout, the errno code on failure.
const FS_PROGRAM = String.raw`
const fs = require('fs');
const [op, p] = process.argv.slice(1);
try {
  if (op === 'read') process.stdout.write(fs.readFileSync(p));
  else if (op === 'write') { const d = fs.readFileSync(0); const fd = fs.openSync(p, 'w'); try { fs.writeSync(fd, d); } finally { fs.closeSync(fd); } }
  else throw Object.assign(new Error('op'), { code: 'EINVAL' });
} catch (e) { process.stderr.write(String(e.code || e.message)); process.exit(3); }
`;

export interface NodeIdentity {
  name: string; // hostname = corosync node name
  nodeid: number;
  ip: string; // address on the cluster network
  container: string; // container name
}

export class ClusterNode implements NodeIdentity {
  readonly name: string;
  readonly nodeid: number;
  readonly ip: string;
  readonly container: string;

  constructor(id: NodeIdentity, private readonly network: string) {
    this.name = id.name;
    this.nodeid = id.nodeid;
    this.ip = id.ip;
    this.container = id.container;
  }

  /** Run argv in the node; the result has the exit code and separate stdout/stderr. */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execInContainer(this.container, argv, { timeoutMs: 60_000, ...opts });
  }

  /** `sh -c script` in the node. */
  sh(script: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.exec(['sh', '-c', script], opts);
  }

  /** `sh -c script` that must succeed; returns stdout, throws with the output otherwise. */
  async shOk(script: string, opts?: ExecOptions): Promise<string> {
    const r = await this.sh(script, opts);
    if (r.code !== 0) throw new Error(`${this.name}: \`${script}\` failed (status ${r.code}): ${(r.stderr + r.stdout).trim()}`);
    return r.stdout;
  }

  /** A file's bytes; throws NodeFsError with the errno code. */
  async readFile(path: string): Promise<Buffer> {
    const r = await this.exec(['node', '-e', FS_PROGRAM, 'read', path]);
    if (r.code !== 0) throw new NodeFsError(this.name, 'read', path, r.stderr.trim() || `status ${r.code}`);
    return r.stdoutBytes;
  }

  /** open(O_WRONLY|O_CREAT|O_TRUNC) + write + close; throws NodeFsError with the errno code. */
  async writeFile(path: string, content: string | Buffer): Promise<void> {
    const r = await this.exec(['node', '-e', FS_PROGRAM, 'write', path], { input: content });
    if (r.code !== 0) throw new NodeFsError(this.name, 'write', path, r.stderr.trim() || `status ${r.code}`);
  }

  /** corosync's scheduling policy in the node ("SCHED_RR 99", "SCHED_OTHER"); null when it is not running. */
  async corosyncPolicy(): Promise<string | null> {
    const r = await this.sh('pid=$(pidof corosync) && chrt -p "$pid"');
    return r.code === 0 ? policyOfChrt(r.stdout) : null;
  }

  /** Corosync, daemon, mount and the daemon's own view, in one exec. */
  status(): Promise<NodeStatus> {
    return probeNodeStatus(this.name, this.container, this.network);
  }

  /** Wait until this node's corosync (and, with `daemon`, its pmxcfs-ts) reports the quorum state. */
  async waitQuorate(quorate = true, opts: { members?: number; daemon?: boolean; timeoutMs?: number } = {}): Promise<{ status: NodeStatus; elapsedMs: number }> {
    const r = await waitUntil(
      `${this.name} ${quorate ? 'quorate' : 'not quorate'}${opts.members ? ` with ${opts.members} members` : ''}`,
      () => this.status(),
      (s) =>
        s.quorum !== null &&
        s.quorum.quorate === quorate &&
        (opts.members === undefined || s.quorum.members.length === opts.members) &&
        (!opts.daemon || s.daemonQuorate === quorate),
      { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250 },
    );
    return { status: r.value, elapsedMs: r.elapsedMs };
  }

  /** SIGKILL of the whole machine, as a fencing device does: no shutdown of anything. */
  async fence(): Promise<void> {
    await engine().getContainer(this.container).kill({ signal: 'SIGKILL' });
    await waitUntil(`${this.name} dead`, () => inspectContainer(this.container), (s) => !s.running, { timeoutMs: 30_000, intervalMs: 100 });
  }

  /** A clean shutdown (SIGTERM: the daemon unmounts and leaves, then corosync). */
  async stop(timeoutS = 20): Promise<void> {
    await engine().getContainer(this.container).stop({ t: timeoutS }).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 304) throw e; // 304: already stopped
    });
  }

  /** Power on a fenced or stopped node (the caller waits for health, see Cluster.waitHealthy). */
  async start(): Promise<void> {
    await engine().getContainer(this.container).start().catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 304) throw e; // 304: already running
    });
  }

  /** Reboot: the entrypoint starts corosync and a supervised daemon again. */
  async restart(timeoutS = 20): Promise<void> {
    await engine().getContainer(this.container).restart({ t: timeoutS });
  }

  async running(): Promise<boolean> {
    return (await inspectContainer(this.container)).running;
  }

  /** pids of every pmxcfs-ts daemon in the node (the entrypoint's, or ones started by hand). */
  async daemonPids(): Promise<number[]> {
    const r = await this.sh(`pgrep -f ${DAEMON_PATTERN} || true`);
    return r.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
  }

  /**
   * Kill the daemon (default SIGKILL: a crash) and wait until it is gone and /etc/pve is unmounted
   * (the entrypoint detaches a dead daemon's mount). It is not restarted: see startDaemon.
   * Returns the pid that was killed.
   */
  async killDaemon(signal: 'KILL' | 'TERM' = 'KILL'): Promise<number> {
    const [pid] = await this.daemonPids();
    if (pid === undefined) throw new Error(`no pmxcfs-ts daemon running on ${this.name}`);
    await this.shOk(`kill -${signal} ${pid}`);
    await waitUntil(`daemon ${pid} gone on ${this.name}`, () => this.sh(`kill -0 ${pid}`), (r) => r.code !== 0, { timeoutMs: 60_000, intervalMs: 100 });
    await this.waitMounted(false);
    return pid;
  }

  /**
   * Start the daemon again inside the running node (corosync keeps running), as the entrypoint does,
   * with extra environment; output to /var/log/pmxcfs-ts-exec.log. The entrypoint does not supervise
   * it: `restart()` puts the node back in its usual shape.
   */
  async startDaemon(env: Record<string, string> = {}, args: readonly string[] = []): Promise<void> {
    const cmd = `exec /usr/local/bin/node --max-semi-space-size=1 ${DAEMON_MAIN} -f --mount /etc/pve --db ${DB_PATH} --nodename ${this.name} ${args.join(' ')} >>/var/log/pmxcfs-ts-exec.log 2>&1`;
    await this.exec(['sh', '-c', cmd], { env, detach: true });
    await this.waitMounted(true);
  }

  /** Wait until /etc/pve is (or is no longer) a FUSE mount in the node's mount table. */
  async waitMounted(mounted: boolean, timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      `/etc/pve ${mounted ? 'mounted' : 'unmounted'} on ${this.name}`,
      () => this.sh("awk '$2==\"/etc/pve\"{print $3}' /proc/mounts"),
      (r) => r.code === 0 && (mounted ? r.stdout.trim().startsWith('fuse') : r.stdout.trim() === ''),
      { timeoutMs, intervalMs: 100 },
    );
  }

  /**
   * Stop corosync and start it again (the daemon keeps running and reconnects). The entrypoint sees
   * the marker file and restarts corosync instead of ending the node.
   */
  async restartCorosync(): Promise<void> {
    const before = (await this.sh('pgrep -x corosync')).stdout.trim();
    if (!before) throw new Error(`corosync is not running on ${this.name}`);
    await this.shOk(`touch /run/lab-restart-corosync && kill -TERM ${before.split('\n').join(' ')}`);
    await waitUntil(
      `corosync restarted on ${this.name}`,
      () => this.sh('pgrep -x corosync'),
      (r) => r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== before,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  /** The container's log: entrypoint, corosync and daemon lines interleaved. */
  logs(tail = 200): Promise<string> {
    return containerLogs(this.container, tail);
  }

  /** A file out of the node's file system, also when it is stopped (engine archive API). */
  async copyOut(path: string): Promise<Buffer> {
    const stream = await engine().getContainer(this.container).getArchive({ path });
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return untarFirstFile(Buffer.concat(chunks));
  }

  /** A file into the node's file system (running or stopped); owner root, the given mode. */
  async copyIn(path: string, content: Buffer | string, mode = 0o644): Promise<void> {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash) || '/';
    const tar = tarOneFile(path.slice(slash + 1), Buffer.from(content), mode);
    await engine().getContainer(this.container).putArchive(tar, { path: dir });
  }
}
