/**
 * An N-node pmxcfs-ts cluster on this machine for integration tests and `npm run bench -- --ns`
 * (docs/lab.md):
 * every node is a network namespace with its own corosync (real knet, token 1000 ms,
 * token_coefficient 0, aes256/sha256) and a real daemon on a real FUSE mount.
 *
 * Network: a "switch" namespace holds a bridge; each node namespace has eth0 = 10.217.0.K/24, the
 * other end of a veth pair plugged into that bridge. Nothing is created in the root network
 * namespace and no namespace is named (each is held by a `sleep` process), so two runs never
 * collide and everything goes away with the holder processes.
 *
 * Processes: corosync runs in its node's network namespace plus a private mount namespace (its own
 * /run: corosync 3.1 locks a fixed /run/corosync.pid; its own /var/lib/corosync for ring ids); the daemon runs in the node's network
 * namespace only, so its FUSE mount (under the cluster's temp dir) is visible to the test process,
 * which reads and writes it directly. Every process is started with a parent-death signal, and its
 * pid and start time are written to a state file: destroy() ends exactly those, and create() first
 * sweeps the leftovers of a run whose test process died (pids checked against their start time).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMountPoint } from '../src/daemon/mountinfo';
import { DAEMON_NODE_OPTIONS } from '../src/daemon/v8-flags';
import { announcedHolderPid, HOLDER_ANNOUNCE } from './ns-holder';
import { readStatFields } from './proc-stat';

/** The repository: the first directory upwards with a package.json (from lab/ or dist/lab/). */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const repoRoot = findRepoRoot(__dirname);
export const DAEMON_JS = path.join(repoRoot, 'dist', 'src', 'main.js');
/** The project's own subnet, inside the cluster's namespaces only. */
export const NS_SUBNET = '10.217.0';
const STATE_ROOT = path.join(os.tmpdir(), 'pmxcfs-nscluster');

export interface NsClusterOptions {
  nodes?: number;
  tokenMs?: number;
  /** Extra environment of every daemon. */
  daemonEnv?: NodeJS.ProcessEnv;
  /** Node/V8 options of every daemon; default the ones a deployed daemon runs with (DAEMON_NODE_OPTIONS). */
  daemonNodeOptions?: readonly string[];
  /** Seconds to wait for quorum, mounts, ... (generous: the machine is shared). */
  timeoutS?: number;
}

interface Tracked {
  pid: number;
  start: string;
  what: string;
}

/** The start time field of /proc/PID/stat, so a recycled pid is never taken for ours. */
function startTimeOf(pid: number): string | null {
  const fields = readStatFields(pid);
  return fields === null || fields[0] === 'Z' ? null : (fields[19] ?? null);
}

function alive(t: Tracked): boolean {
  return startTimeOf(t.pid) === t.start;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** Ends the processes of a state file (daemons first), lazily unmounts its mounts, removes its dir. */
function sweep(stateDir: string): void {
  let tracked: Tracked[] = [];
  let mounts: string[] = [];
  try {
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { tracked: Tracked[]; mounts: string[] };
    tracked = state.tracked;
    mounts = state.mounts;
  } catch {
    // no state written yet
  }
  for (const t of tracked) {
    try {
      if (alive(t)) process.kill(t.pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  for (const m of mounts) if (isMountPoint(m)) spawnSync('umount', ['-l', m]);
  // corosync's rings and the daemons' own IPC server rings (both name them after the server pid)
  removeQbShm(tracked.filter((t) => t.what.startsWith('corosync') || t.what.startsWith('daemon')).map((t) => t.pid));
  fs.rmSync(stateDir, { recursive: true, force: true });
}

/** libqb shared-memory files of the given (ended) server pids in the host's /dev/shm. */
function removeQbShm(pids: number[]): void {
  if (pids.length === 0) return;
  let names: string[] = [];
  try {
    names = fs.readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const name of names) {
    // qb-<server pid>-<client pid>-... (IPC rings), qb-corosync-<pid>-blackbox-... (flight recorder)
    if (!pids.some((pid) => name.startsWith(`qb-${pid}-`) || name.startsWith(`qb-corosync-${pid}-`))) continue;
    try {
      fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours to remove: a leftover in /dev/shm is harmless
    }
  }
}

/** SIGKILL a child we started and wait for its exit (listened for before the signal). */
async function killAndWait(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Leftovers of runs whose test process is gone (a crash, a kill -9 of vitest). */
export function sweepStaleRuns(): void {
  let runs: string[] = [];
  try {
    runs = fs.readdirSync(STATE_ROOT);
  } catch {
    return;
  }
  for (const run of runs) {
    const m = /^run-(\d+)-(\d+)-/.exec(run);
    if (m === null) continue;
    const owner = { pid: Number(m[1]), start: m[2]!, what: 'owner' };
    if (!alive(owner)) sweep(path.join(STATE_ROOT, run));
  }
}

export class NsNode {
  corosync: ChildProcess | null = null;
  daemon: ChildProcess | null = null;
  daemonLog = '';

  constructor(
    private readonly cluster: NsCluster,
    readonly id: number,
    readonly dir: string,
    /** pid of the process holding this node's network + mount namespaces. */
    readonly holderPid: number,
  ) {}

  get name(): string {
    return `node${this.id}`;
  }
  get addr(): string {
    return `${NS_SUBNET}.${this.id}`;
  }
  get mnt(): string {
    return path.join(this.dir, 'mnt');
  }
  get db(): string {
    return path.join(this.dir, 'config.db');
  }
  get confPath(): string {
    return path.join(this.dir, 'corosync.conf');
  }
  /** The daemon's control socket (beside its database). */
  get controlSocket(): string {
    return path.join(this.dir, 'pmxcfs-ts.sock');
  }
  /** A path inside this node's /etc/pve. */
  p(rel: string): string {
    return path.join(this.mnt, rel);
  }

  /** Runs a command in this node's network namespace; resolves with its exit code and output. */
  run(command: string, args: string[], mountNs = false): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('nsenter', [`--target=${this.holderPid}`, '--net', ...(mountNs ? ['--mount'] : []), command, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => resolve({ code, out }));
      child.on('error', (e) => resolve({ code: null, out: String(e) }));
    });
  }

  async startCorosync(): Promise<void> {
    if (this.corosync !== null) throw new Error(`${this.name}: corosync already running`);
    const log = fs.openSync(path.join(this.dir, 'corosync.log'), 'a');
    const child = this.cluster.track(
      spawn('setpriv', ['--pdeathsig', 'KILL', 'nsenter', `--target=${this.holderPid}`, '--net', '--mount', 'corosync', '-f', '-c', this.confPath], {
        stdio: ['ignore', log, log],
      }),
      `corosync ${this.name}`,
    );
    fs.closeSync(log);
    this.corosync = child;
    child.once('exit', () => {
      if (this.corosync === child) this.corosync = null;
      removeQbShm([child.pid!]);
    });
  }

  async killCorosync(): Promise<void> {
    await killAndWait(this.corosync);
  }

  /** Starts the daemon and waits for its FUSE mount. */
  async startDaemon(): Promise<void> {
    if (this.daemon !== null) throw new Error(`${this.name}: daemon already running`);
    if (isMountPoint(this.mnt)) spawnSync('umount', ['-l', this.mnt]); // left by a kill -9
    fs.mkdirSync(this.mnt, { recursive: true });
    const child = this.cluster.track(
      spawn('setpriv', ['--pdeathsig', 'KILL', 'nsenter', `--target=${this.holderPid}`, '--net', process.execPath, ...this.cluster.daemonNodeOptions, DAEMON_JS, '-f',
        '--mount', this.mnt, '--db', this.db, '--nodename', this.name, '--corosync-conf', this.confPath,
        '--control-socket', this.controlSocket, '--rrdcached-socket', 'none', '--rrd-dir', path.join(this.dir, 'rrd')], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, PMXCFS_RECONNECT_DELAY_MS: '1000', ...this.cluster.daemonEnv },
      }),
      `daemon ${this.name}`,
    );
    this.daemon = child;
    child.stderr!.on('data', (c: Buffer) => (this.daemonLog += c.toString()));
    child.once('exit', () => {
      if (this.daemon === child) this.daemon = null;
    });
    this.cluster.noteMount(this.mnt);
    await this.cluster.waitFor(`${this.name}: FUSE mount`, () => {
      if (this.daemon !== child) throw new Error(`${this.name}: daemon exited: ${this.daemonLog.slice(-2000)}`);
      return isMountPoint(this.mnt);
    });
  }

  /** SIGKILL the daemon (its mount stays, dead, until startDaemon or destroy). */
  async killDaemon(): Promise<void> {
    await killAndWait(this.daemon);
  }

  /** SIGTERM the daemon and wait for it to unmount and exit. */
  async stopDaemon(): Promise<void> {
    const child = this.daemon;
    if (child === null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(force);
  }

  /** corosync's view: member count and quorate, or null when it does not answer. */
  async quorum(): Promise<{ nodes: number; quorate: boolean } | null> {
    const r = await this.run('corosync-quorumtool', ['-s']);
    const nodes = /^Nodes:\s*(\d+)/m.exec(r.out);
    const quorate = /^Quorate:\s*(\w+)/m.exec(r.out);
    if (nodes === null || quorate === null) return null;
    return { nodes: Number(nodes[1]), quorate: quorate[1] === 'Yes' };
  }

  /** Unplugs this node's cable from the switch / plugs it back in. */
  async cut(): Promise<void> {
    await this.cluster.switchRun('ip', ['link', 'set', `veth${this.id}`, 'nomaster']);
  }

  async heal(): Promise<void> {
    await this.cluster.switchRun('ip', ['link', 'set', `veth${this.id}`, 'master', 'br0', 'up']);
  }
}

export class NsCluster {
  readonly nodes: NsNode[] = [];
  private readonly tracked: Tracked[] = [];
  private readonly mounts = new Set<string>();
  private switchPid = 0;
  readonly timeoutMs: number;

  private constructor(
    readonly dir: string,
    readonly daemonEnv: NodeJS.ProcessEnv,
    readonly daemonNodeOptions: readonly string[],
    timeoutS: number,
  ) {
    this.timeoutMs = timeoutS * 1000;
  }

  /** True when this machine can run it: root, unshare/nsenter/setpriv, corosync, /dev/fuse. */
  static available(): boolean {
    try {
      execFileSync('unshare', ['--net', '--mount', 'true'], { stdio: 'ignore' });
      execFileSync('corosync', ['-v'], { stdio: 'ignore' });
      execFileSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' });
      return fs.existsSync('/dev/fuse') && fs.existsSync(DAEMON_JS);
    } catch {
      return false;
    }
  }

  /** Namespaces, network and corosync.conf for N nodes; starts corosync and the daemons, waits for quorum. */
  static async create(o: NsClusterOptions = {}): Promise<NsCluster> {
    sweepStaleRuns();
    const n = o.nodes ?? 3;
    const ownerStart = startTimeOf(process.pid) ?? '0';
    fs.mkdirSync(STATE_ROOT, { recursive: true });
    const dir = fs.mkdtempSync(path.join(STATE_ROOT, `run-${process.pid}-${ownerStart}-`));
    fs.chmodSync(dir, 0o755);
    const cluster = new NsCluster(dir, o.daemonEnv ?? {}, o.daemonNodeOptions ?? DAEMON_NODE_OPTIONS, o.timeoutS ?? 120);
    try {
      await cluster.build(n, o.tokenMs ?? 1000);
      await Promise.all(cluster.nodes.map((node) => node.startCorosync()));
      await cluster.waitQuorate(cluster.nodes, n);
      await Promise.all(cluster.nodes.map((node) => node.startDaemon()));
      await cluster.waitWritable(cluster.nodes);
    } catch (err) {
      const logs = cluster.nodes.map((node) => `--- ${node.name} daemon ---\n${node.daemonLog.slice(-1500)}`).join('\n');
      await cluster.destroy();
      throw new Error(`${(err as Error).message}\n${logs}`);
    }
    return cluster;
  }

  private async build(n: number, tokenMs: number): Promise<void> {
    this.switchPid = await this.holder(['--net'], 'ip link add br0 type bridge && ip link set br0 up', 'switch');
    fs.writeFileSync(path.join(this.dir, 'authkey'), Buffer.from(Array.from({ length: 256 }, () => Math.floor(Math.random() * 256))), { mode: 0o400 });
    const conf = renderNsCorosyncConf(n, tokenMs, path.join(this.dir, 'authkey'));
    for (let id = 1; id <= n; id++) {
      const nodeDir = path.join(this.dir, `node${id}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      // One text for every node: the daemons replicate corosync.conf and write it back to the host file.
      fs.writeFileSync(path.join(nodeDir, 'corosync.conf'), conf);
      const holderPid = await this.holder(['--net', '--mount'], 'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/corosync', `holder node${id}`);
      this.nodes.push(new NsNode(this, id, nodeDir, holderPid));
      await this.switchRun('ip', ['link', 'add', `veth${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(holderPid)]);
      await this.switchRun('ip', ['link', 'set', `veth${id}`, 'master', 'br0', 'up']);
      const node = this.nodes[id - 1]!;
      for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${NS_SUBNET}.${id}/24`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up']]) {
        const r = await node.run('ip', args);
        if (r.code !== 0) throw new Error(`node${id}: ip ${args.join(' ')}: ${r.out}`);
      }
    }
  }

  /** A process holding new namespaces after running `setup` in them; resolves with its pid. */
  private async holder(unshareArgs: string[], setup: string, what: string): Promise<number> {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'unshare', ...unshareArgs, '--fork', '--kill-child', 'sh', '-c',
      `${setup} && ${HOLDER_ANNOUNCE}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.track(child, `${what} (unshare)`);
    const pid = await announcedHolderPid(child, what);
    this.trackPid(pid, what);
    return pid;
  }

  /** Records a child's pid (and start time) in the state file before anything can go wrong. */
  track(child: ChildProcess, what: string): ChildProcess {
    if (child.pid !== undefined) this.trackPid(child.pid, what);
    return child;
  }

  private trackPid(pid: number, what: string): void {
    const start = startTimeOf(pid);
    if (start === null) return;
    this.tracked.push({ pid, start, what });
    this.saveState();
  }

  noteMount(mnt: string): void {
    this.mounts.add(mnt);
    this.saveState();
  }

  private saveState(): void {
    // Daemons first, then corosync, then the holders (their namespaces go with them).
    const order = (t: Tracked) => (t.what.startsWith('daemon') ? 0 : t.what.startsWith('corosync') ? 1 : 2);
    const tracked = [...this.tracked].sort((a, b) => order(a) - order(b));
    fs.writeFileSync(path.join(this.dir, 'state.json'), JSON.stringify({ tracked, mounts: [...this.mounts] }));
  }

  async switchRun(command: string, args: string[]): Promise<void> {
    const r = spawnSync('nsenter', [`--target=${this.switchPid}`, '--net', command, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`switch: ${command} ${args.join(' ')}: ${r.stderr}`);
  }

  /** Polls `probe` every 200 ms until it returns true; throws after the cluster's timeout. */
  async waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = this.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await probe()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(200);
    }
  }

  /** Every node's corosync sees `members` members and is quorate. */
  async waitQuorate(nodes: NsNode[], members: number): Promise<void> {
    await this.waitFor(`corosync quorate with ${members} members on ${nodes.map((n) => n.name).join(',')}`, async () => {
      const views = await Promise.all(nodes.map((n) => n.quorum()));
      return views.every((v) => v !== null && v.quorate && v.nodes === members);
    });
  }

  /** The daemons are quorate: their corosync.conf shows write bits (0640 instead of 0440). */
  async waitWritable(nodes: NsNode[]): Promise<void> {
    await this.waitFor(`daemons writable on ${nodes.map((n) => n.name).join(',')}`, () =>
      nodes.every((n) => {
        try {
          return (fs.statSync(n.p('corosync.conf')).mode & 0o200) !== 0;
        } catch {
          return false;
        }
      }),
    );
  }

  /** Ends every process this cluster started (by pid + start time), unmounts, removes the temp dir. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stopDaemon().catch(() => undefined)));
    sweep(this.dir);
  }
}

/** corosync.conf of the namespace cluster: knet, aes256/sha256, token 1000 ms, token_coefficient 0. */
export function renderNsCorosyncConf(n: number, tokenMs: number, keyfile: string): string {
  const nodes = Array.from({ length: n }, (_, i) =>
    `  node {\n    name: node${i + 1}\n    nodeid: ${i + 1}\n    quorum_votes: 1\n    ring0_addr: ${NS_SUBNET}.${i + 1}\n  }\n`).join('');
  return (
    `totem {\n  version: 2\n  cluster_name: nscluster\n  config_version: 1\n  transport: knet\n  ip_version: ipv4\n` +
    `  link_mode: passive\n  secauth: on\n  crypto_cipher: aes256\n  crypto_hash: sha256\n  keyfile: ${keyfile}\n` +
    `  token: ${tokenMs}\n  token_coefficient: 0\n  interface {\n    linknumber: 0\n  }\n}\n\n` +
    `nodelist {\n${nodes}}\n\nquorum {\n  provider: corosync_votequorum\n}\n\n` +
    `logging {\n  to_stderr: yes\n  to_logfile: no\n  to_syslog: no\n  timestamp: on\n}\n`
  );
}
