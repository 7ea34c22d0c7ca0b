/**
 * `pmxcfs-ts status`: health of the local daemon for operators and monitoring. Asks the daemon over
 * its control socket, probes the mount from outside (timed child process), prints a summary or
 * `--json`, and exits 0 when healthy (see health.ts for the other exit statuses).
 */
import { resolve } from 'node:path';
import { DEFAULT_MOUNT, DEFAULT_DB } from '../daemon/options';
import { controlSocketPath, DEFAULT_LOG_LINES, MAX_LOG_LINES, type NodeStatus } from '../daemon/control-protocol';
import { requestControl } from './control-client';
import { EXIT_USAGE, judgeHealth, type HealthVerdict } from './health';
import { probeMount, type MountProbe } from './mount-probe';
import type { SpansSummary, StageSummary } from '../trace/write-spans';
import { serversOfMount } from './find-daemon';
import { describeServer } from '../daemon/fuse-servers';

export const STATUS_USAGE = `Usage:
  pmxcfs-ts status [OPTION...] - health of the local pmxcfs-ts daemon

Options:
  --json                Machine-readable output (one JSON object)
  --spans               Also show the latency spans of the last replicated writes
  --socket=PATH         Control socket (default /run/pve-cluster/pmxcfs-ts.sock)
  --db=FILE             Find the socket beside this database (as the daemon's --db)
  --mount=DIR           Mount point of the daemon (default ${DEFAULT_MOUNT}); when the socket does
                        not answer for it, the daemon serving DIR is looked up
  --timeout=MS          Deadline for the daemon and for the mount probe (default 3000)
  --log=N               Cluster log lines to show, 0..${MAX_LOG_LINES} (default ${DEFAULT_LOG_LINES})

Exit status: 0 healthy, 1 unhealthy (not mounted, mount hung, no quorum in cluster mode,
DFSM error, database error), 2 daemon not running or not answering, 64 usage error.
`;

export interface StatusArgs {
  json: boolean;
  /** Also print the write latency spans (always in --json). */
  spans: boolean;
  socket: string;
  mount: string;
  /** --mount was given: the daemon asked must serve that mount. */
  mountGiven: boolean;
  timeoutMs: number;
  logLines: number;
}

export type StatusArgsResult = { kind: 'run'; args: StatusArgs } | { kind: 'help' } | { kind: 'error'; message: string };

export function parseStatusArgs(argv: readonly string[]): StatusArgsResult {
  let json = false;
  let spans = false;
  let socket: string | undefined;
  let db = DEFAULT_DB;
  let mount = DEFAULT_MOUNT;
  let mountGiven = false;
  let timeoutMs = 3000;
  let logLines = DEFAULT_LOG_LINES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--json' || arg === '--spans') {
      if (arg === '--json') json = true;
      else spans = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!['--socket', '--db', '--mount', '--timeout', '--log'].includes(name)) return { kind: 'error', message: `unknown option ${arg}` };
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') return { kind: 'error', message: `missing value for ${name}` };
    if (name === '--socket') socket = value;
    else if (name === '--db') db = value;
    else if (name === '--mount') {
      mount = value;
      mountGiven = true;
    }
    else {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (name === '--timeout' && !(n >= 100 && n <= 600_000)) return { kind: 'error', message: '--timeout must be 100..600000 ms' };
      if (name === '--log' && !(n >= 0 && n <= MAX_LOG_LINES)) return { kind: 'error', message: `--log must be 0..${MAX_LOG_LINES}` };
      if (name === '--timeout') timeoutMs = n;
      else logLines = n;
    }
  }
  return { kind: 'run', args: { json, spans, socket: socket ?? controlSocketPath(db), mount, mountGiven, timeoutMs, logLines } };
}

/** The whole report, also the `--json` output. */
export interface StatusReport {
  healthy: boolean;
  problems: string[];
  socket: string;
  daemon: { answering: boolean; error?: string };
  mount: { path: string } & MountProbe;
  status: NodeStatus | null;
}

type DaemonAnswer = { status: NodeStatus; error: null } | { status: null; error: string };

async function askDaemon(socket: string, args: StatusArgs): Promise<DaemonAnswer> {
  const answer = await requestControl(socket, { cmd: 'status', logLines: args.logLines }, args.timeoutMs);
  if (!answer.ok) return { status: null, error: answer.error };
  if (!answer.response.ok) return { status: null, error: `daemon refused the request: ${answer.response.error}` };
  if ('status' in answer.response) return { status: answer.response.status, error: null };
  return { status: null, error: 'unexpected answer from the daemon' };
}

/**
 * Asks the daemon on args.socket; when it does not answer, or serves another mount than --mount,
 * asks the daemon found serving the mount. Never says "not running" of a daemon that serves it.
 */
async function findDaemon(args: StatusArgs): Promise<{ socket: string; answer: DaemonAnswer }> {
  const first = await askDaemon(args.socket, args);
  const wanted = resolve(args.mount);
  if (first.status !== null && (!args.mountGiven || resolve(first.status.mount) === wanted)) return { socket: args.socket, answer: first };
  const mountPoint = first.status === null || args.mountGiven ? wanted : resolve(first.status.mount);
  const servers = await serversOfMount(mountPoint);
  const notes: string[] = [];
  for (const s of servers) {
    if (s.socket === undefined) {
      notes.push(`${mountPoint} is served by ${describeServer(s.server)}, not a pmxcfs-ts daemon`);
      continue;
    }
    const answer = s.socket === args.socket ? first : await askDaemon(s.socket, args);
    if (answer.status !== null && resolve(answer.status.mount) === mountPoint) return { socket: s.socket, answer };
    notes.push(`${mountPoint} is served by ${describeServer(s.server)}, which does not answer on ${s.socket}: ${answer.error?.replace(/^daemon not running: /, '') ?? `it serves ${answer.status?.mount}`}`);
  }
  if (first.status !== null) {
    notes.unshift(`the daemon on ${args.socket} serves ${first.status.mount}, not ${mountPoint}`);
  } else if (servers.length === 0 || !first.error.startsWith('daemon not running')) {
    notes.unshift(first.error);
  } else {
    notes.unshift(`nothing answers on ${args.socket}`);
  }
  if (servers.length === 0 && first.status !== null) notes.push(`no daemon serving ${mountPoint} was found: pass --db=FILE (its --db) or --socket=PATH`);
  return { socket: args.socket, answer: { status: null, error: notes.join('; ') } };
}

export async function collectReport(args: StatusArgs): Promise<{ report: StatusReport; verdict: HealthVerdict }> {
  const { socket, answer } = await findDaemon(args);
  const status = answer.status;
  let daemonError = answer.error;
  const mountPath = status?.mount ?? args.mount;
  const mount = await probeMount(mountPath, args.timeoutMs);
  if (status === null && mount.mounted && mount.responsive === true && daemonError?.startsWith('daemon not running')) {
    // The mount answers, so some daemon serves it: one this command could not find or reach.
    daemonError = `no daemon answers on ${socket}, yet ${resolve(mountPath)} is mounted and answers: its daemon was not found (pass --db=FILE, the daemon's --db, or --socket=PATH)`;
  }
  const verdict = judgeHealth(status, daemonError, mount);
  const report: StatusReport = {
    healthy: verdict.healthy,
    problems: verdict.problems,
    socket,
    daemon: daemonError === null ? { answering: true } : { answering: false, error: daemonError },
    mount: { path: resolve(mountPath), ...mount },
    status,
  };
  return { report, verdict };
}

export async function runStatusCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStatusArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`pmxcfs-ts status: ${parsed.message}\n${STATUS_USAGE}`);
    return EXIT_USAGE;
  }
  const { report, verdict } = await collectReport(parsed.args);
  process.stdout.write(parsed.args.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, parsed.args.spans));
  return verdict.exitCode;
}

const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** The human summary. */
export function renderText(r: StatusReport, spans = false): string {
  const out: string[] = [];
  out.push(`health:    ${r.healthy ? 'OK' : 'UNHEALTHY'}`);
  for (const p of r.problems) out.push(`  problem: ${p}`);
  const m = r.mount;
  const mountState = !m.mounted ? 'not mounted' : m.responsive ? `mounted, responsive (${m.probeMs} ms)` : `mounted, NOT responsive`;
  out.push(`mount:     ${m.path}: ${mountState}`);
  const s = r.status;
  if (s === null) {
    out.push(`daemon:    ${r.daemon.error ?? 'not answering'}`);
    return `${out.join('\n')}\n`;
  }
  out.push(`daemon:    pid ${s.pid}, node ${s.nodename}${s.nodeid ? ` (nodeid ${s.nodeid})` : ''}, up ${duration(Math.max(0, s.now - s.starttime))}, debug ${s.debug ? 'on' : 'off'}`);
  out.push(`mode:      ${s.mode}`);
  out.push(`quorum:    ${s.quorate ? 'quorate' : 'NOT quorate (read-only)'}`);
  out.push(`database:  ${s.db}, version ${s.version}${s.memdbErrors ? ', ERROR flag set' : ''}; ${s.guests} guest(s)`);
  if (s.cluster) out.push(`cluster:   ${s.cluster.name}, config_version ${s.cluster.configVersion}`);
  if (s.members.length > 0) {
    out.push('members:');
    for (const n of s.members) out.push(`  ${n.nodeid.toString().padStart(3)} ${n.name.padEnd(20)} ${n.online ? 'online ' : 'OFFLINE'}${n.ip ? ` ${n.ip}` : ''}`);
  }
  if (s.dfsm) {
    for (const d of [s.dfsm.dcdb, s.dfsm.kvstore]) {
      out.push(`dfsm:      ${d.group}: ${d.mode}${d.joined ? '' : ' (not joined)'}, ${d.members.length} member(s), ${d.queued} queued, ${d.waiting} waiting`);
    }
  }
  if (s.locks.length === 0) out.push('locks:     none');
  else {
    out.push('locks:');
    for (const l of s.locks) {
      const exp = l.expiresIn === 0 ? 'expired (released on the next unlock request)' : `expires in ${duration(l.expiresIn)}`;
      out.push(`  ${l.name.padEnd(32)} held ${duration(l.age)}, writer ${l.writer}, ${exp}`);
    }
  }
  if (spans && s.writeSpans !== undefined) out.push(...renderSpans(s.writeSpans));
  if (s.clusterLog.length > 0) {
    out.push('cluster log (newest first):');
    for (const e of s.clusterLog) {
      out.push(`  ${isoTime(e.time)} ${e.node} ${e.tag}[${PRIORITY_NAMES[e.pri] ?? e.pri}] ${e.user}: ${e.msg}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The latency spans as two tables (µs per stage: p50 p90 p99 max). */
export function renderSpans(w: SpansSummary): string[] {
  const out: string[] = [];
  const table = (title: string, rows: StageSummary[]) => {
    out.push(title);
    out.push(`  ${'stage'.padEnd(28)} ${'n'.padStart(5)} ${'p50 µs'.padStart(9)} ${'p90 µs'.padStart(9)} ${'p99 µs'.padStart(9)} ${'max µs'.padStart(9)}`);
    for (const r of rows) {
      const cell = (v: number) => v.toFixed(1).padStart(9);
      out.push(`  ${r.stage.padEnd(28)} ${String(r.count).padStart(5)} ${cell(r.p50)} ${cell(r.p90)} ${cell(r.p99)} ${cell(r.max)}`);
    }
  };
  table(`write spans: last ${w.writes} own replicated writes (window ${w.window})`, w.origin);
  table(`delivery spans: last ${w.peerDeliveries} writes of other nodes applied here`, w.peer);
  return out;
}
