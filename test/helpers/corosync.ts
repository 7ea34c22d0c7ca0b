/**
 * A real one-node corosync for integration tests, isolated in a private network namespace.
 *
 * Why a namespace: corosync's IPC sockets (cpg, quorum, cmap) are abstract unix sockets, which
 * belong to a network namespace, and knet binds 127.0.0.1:5405 there. Each test gets its own, so
 * tests never see each other or a corosync of the host. corosync 3.1 also takes a lock on the
 * compiled-in /var/run/corosync.pid, so corosync runs in a private mount namespace too, with its own
 * tmpfs on /run; its state (ringid files) goes to `system.state_dir` in the test's directory.
 * Its libqb shared memory lives in the host's /dev/shm (named after pids, so no collisions); files a
 * killed corosync leaves there are removed by kill()/destroy().
 *
 * Layout: a holder process (`unshare --net --mount --fork ... sleep`) owns the namespaces; corosync
 * and client programs are started in them with `nsenter --target <holder>`, so corosync can be
 * killed and restarted while clients keep running. Clients are plain `node` processes; TypeScript
 * is loaded through test/helpers/ts-require.cjs (see spawnNode).
 */
import { ChildProcess, execFileSync, spawn, SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { announcedHolderPid, HOLDER_ANNOUNCE } from '../../lab/ns-holder';

const repoRoot = path.resolve(__dirname, '..', '..');
const tsRequire = path.join(__dirname, 'ts-require.cjs');

export interface CorosyncNodeConfig {
  nodeid: number;
  name: string;
  ring0Addr: string;
  quorumVotes: number;
}

export interface CorosyncOptions {
  clusterName?: string;
  configVersion?: number;
  /** The nodelist; default one node {nodeid 1, name "node1", 127.0.0.1, 1 vote}. */
  nodes?: CorosyncNodeConfig[];
  /** totem.token in ms (short, so a one-node ring forms fast). */
  tokenMs?: number;
}

/** True when this machine can run the helper: root, unshare/nsenter, corosync installed. */
export function corosyncAvailable(): boolean {
  try {
    execFileSync('unshare', ['--net', '--mount', 'true'], { stdio: 'ignore' });
    execFileSync('corosync', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** corosync.conf text for a cluster on loopback (knet, no crypto). */
export function renderCorosyncConf(options: Required<CorosyncOptions>, stateDir: string): string {
  const nodes = options.nodes
    .map((n) => [
      '  node {',
      `    name: ${n.name}`,
      `    nodeid: ${n.nodeid}`,
      `    quorum_votes: ${n.quorumVotes}`,
      `    ring0_addr: ${n.ring0Addr}`,
      '  }',
    ].join('\n'))
    .join('\n');
  return [
    'totem {',
    '  version: 2',
    `  cluster_name: ${options.clusterName}`,
    `  config_version: ${options.configVersion}`,
    '  transport: knet',
    '  crypto_cipher: none',
    '  crypto_hash: none',
    `  token: ${options.tokenMs}`,
    '}',
    'nodelist {',
    nodes,
    '}',
    'quorum {',
    '  provider: corosync_votequorum',
    '}',
    'logging {',
    '  to_stderr: yes',
    '  to_syslog: no',
    '  to_logfile: no',
    '  timestamp: on',
    '}',
    'system {',
    `  state_dir: ${stateDir}`,
    '}',
    '',
  ].join('\n');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CorosyncNamespace {
  readonly configPath: string;
  readonly logPath: string;
  readonly options: Required<CorosyncOptions>;
  private corosync: ChildProcess | null = null;
  private readonly corosyncPids: number[] = [];
  private readonly children = new Set<ChildProcess>();

  private constructor(
    readonly dir: string,
    private readonly holder: ChildProcess,
    /** pid of the process that owns the namespaces (nsenter --target). */
    readonly holderPid: number,
    options: Required<CorosyncOptions>,
  ) {
    this.options = options;
    this.configPath = path.join(dir, 'corosync.conf');
    this.logPath = path.join(dir, 'corosync.log');
  }

  /** Creates the namespaces and writes corosync.conf; corosync is not started yet. */
  static async create(options: CorosyncOptions = {}): Promise<CorosyncNamespace> {
    const full: Required<CorosyncOptions> = {
      clusterName: options.clusterName ?? 'testcluster',
      configVersion: options.configVersion ?? 1,
      nodes: options.nodes ?? [{ nodeid: 1, name: 'node1', ring0Addr: '127.0.0.1', quorumVotes: 1 }],
      tokenMs: options.tokenMs ?? 1000,
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pmxcfs-corosync-${process.pid}-`));
    const holder = spawn(
      'unshare',
      ['--net', '--mount', '--fork', '--kill-child', 'sh', '-c',
        `ip link set lo up && mount -t tmpfs tmpfs /run && ${HOLDER_ANNOUNCE}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const holderPid = await announcedHolderPid(holder, 'corosync namespace');
    const ns = new CorosyncNamespace(dir, holder, holderPid, full);
    ns.writeConfig(full);
    return ns;
  }

  /** Rewrites corosync.conf (e.g. a new config_version before reload()). */
  writeConfig(options: Required<CorosyncOptions>): void {
    fs.writeFileSync(this.configPath, renderCorosyncConf(options, this.dir));
  }

  /** Starts corosync in the namespace and waits until the node is quorate. */
  async startCorosync(timeoutMs = 60_000): Promise<void> {
    if (this.corosync !== null) throw new Error('corosync already running');
    const log = fs.openSync(this.logPath, 'a');
    const child = spawn('nsenter', [`--target=${this.holderPid}`, '--net', '--mount', 'corosync', '-f', '-c', this.configPath], {
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.corosync = child;
    this.corosyncPids.push(child.pid!);
    child.once('exit', () => {
      if (this.corosync === child) this.corosync = null;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.run('corosync-quorumtool', ['-s']);
      if (status.code === 0) return;
      if (this.corosync === null) throw new Error(`corosync exited; log:\n${fs.readFileSync(this.logPath, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`corosync not quorate after ${timeoutMs} ms:\n${status.stdout}${status.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  get corosyncRunning(): boolean {
    return this.corosync !== null;
  }

  /** Kills corosync (SIGKILL by default: it gets no chance to tell its clients) and waits for it. */
  async killCorosync(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.corosync;
    if (child === null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    // A corosync that ignores SIGTERM must not hang the test's cleanup.
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
    this.corosync = null;
    this.removeShmOf(child.pid!);
  }

  /** corosync-cfgtool -R: corosync re-reads corosync.conf. */
  async reload(): Promise<RunResult> {
    return this.run('corosync-cfgtool', ['-R']);
  }

  /** Spawns a command inside the network namespace (host mount namespace). */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('nsenter', [`--target=${this.holderPid}`, '--net', command, ...args], {
      cwd: repoRoot,
      ...options,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Spawns `node` on a TypeScript (or JS) script inside the namespace, with the project's sources loadable. */
  spawnNode(script: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
    return this.spawn(process.execPath, ['-r', tsRequire, script, ...args], {
      ...options,
      env: { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules'), ...options.env },
    });
  }

  /** Runs a command inside the namespace to completion. */
  run(command: string, args: string[]): Promise<RunResult> {
    const child = this.spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve) => {
      child.once('error', (err) => resolve({ code: -1, stdout, stderr: String(err) }));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** corosync's log so far (for failure messages). */
  corosyncLog(): string {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops everything this namespace started (clients, corosync, holder) and removes its files. */
  async destroy(): Promise<void> {
    for (const child of [...this.children]) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (this.corosync !== null) await this.killCorosync('SIGTERM');
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = once(this.holder, 'exit');
      try {
        process.kill(this.holderPid, 'SIGKILL');
      } catch {
        // already gone
      }
      this.holder.kill('SIGKILL');
      await exited;
    }
    for (const pid of this.corosyncPids) this.removeShmOf(pid);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** libqb files of one of our corosync processes: qb-<pid>-* (IPC) and qb-corosync-<pid>-* (blackbox). */
  private removeShmOf(pid: number): void {
    let names: string[];
    try {
      names = fs.readdirSync('/dev/shm');
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(`qb-${pid}-`) || name.startsWith(`qb-corosync-${pid}-`)) {
        fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
      }
    }
  }
}

export type JsonEvent = Record<string, unknown> & { ev: string };

/**
 * A child process that speaks JSON lines (commands on stdin, events on stdout), e.g.
 * test/helpers/corosync-client.ts. Every event is kept, so a test can wait for one that already came.
 */
export class JsonLinesProcess {
  readonly events: JsonEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();
  private buffered = '';
  /** The process exited and every line it wrote has been read. */
  private closed = false;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString();
      let newline: number;
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as JsonEvent);
        } catch {
          this.events.push({ ev: 'unparsed', line });
        }
      }
      for (const wake of [...this.waiters]) wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    // 'close', not 'exit': after 'exit' the last lines may still be in the pipe, unread.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.closed = true;
        resolve({ code, signal });
        for (const wake of [...this.waiters]) wake();
      });
    });
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event from index `from` on that matches; rejects after `timeoutMs` (a hang, not a speed check). */
  waitFor(match: (event: JsonEvent) => boolean, options: { from?: number; timeoutMs?: number } = {}): Promise<JsonEvent> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.events.length; i++) {
          if (match(this.events[i]!)) {
            cleanup();
            resolve(this.events[i]!);
            return;
          }
        }
        if (this.closed) {
          cleanup();
          reject(new Error(`client exited (${this.child.exitCode ?? this.child.signalCode}); stderr: ${this.stderr.join('')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching event in ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a command and waits for the event it answers with. */
  async request(command: Record<string, unknown>, answer: string, timeoutMs?: number): Promise<JsonEvent> {
    const from = this.events.length;
    this.send(command);
    return this.waitFor((e) => e.ev === answer, { from, timeoutMs });
  }
}
