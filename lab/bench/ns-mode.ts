/**
 * `npm run bench -- --ns`: the replicated figures of `--lab` (atomic writes and lock pairs on node1,
 * both client patterns) on a three-node namespace cluster of this machine (lab/ns-cluster.ts: real
 * corosync knet, token 1000, token_coefficient 0), then node1's latency spans. The probe runs on the
 * host against node1's mount (the same lab-probe.ts the Docker lab pipes into its containers).
 */
import { spawn, spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { requestControl } from '../../src/cli/control-client';
import { renderSpans } from '../../src/cli/status-command';
import { NsCluster, type NsNode } from '../ns-cluster';
import { cpuMs } from './proc-cpu';
import { policyOfChrt } from '../realtime';
import type { BenchOptions } from './args';
import { labTable, replicatedWriteFigures, type ProbeRunner } from './replicated';

const PROBE = path.join(__dirname, 'lab-probe.js');
const FLOOR = path.join(__dirname, 'cpg-floor.js');

/** corosync's scheduling policy on a node ("SCHED_RR 99"), as chrt reports it. */
function corosyncPolicy(node: NsNode): string {
  const pid = node.corosync?.pid;
  if (pid === undefined) return 'unknown';
  return policyOfChrt(spawnSync('chrt', ['-p', String(pid)], { encoding: 'utf8' }).stdout ?? '') ?? 'unknown';
}

/**
 * CPU per atomic write of every daemon and corosync: one more sync run of `seconds` on node1, with
 * each process's utime+stime read before and after (/proc/PID/stat).
 */
async function cpuPerWrite(cluster: NsCluster, dir: string, seconds: number): Promise<string> {
  const procs = cluster.nodes.flatMap((n) => [
    { kind: 'corosync', pid: n.corosync?.pid },
    { kind: 'daemon', pid: n.daemon?.pid },
  ]).filter((p): p is { kind: string; pid: number } => p.pid !== undefined);
  const before = procs.map((p) => cpuMs(p.pid));
  const r = await runProbe('atomic', { dir, seconds, client: 'sync' });
  const ops = Number(r.ops);
  const per = procs.map((p, i) => {
    const a = before[i];
    const b = cpuMs(p.pid);
    return { kind: p.kind, ms: a === null || b === null || !(ops > 0) ? NaN : (b - a) / ops };
  });
  const line = (kind: string): string => {
    const xs = per.filter((p) => p.kind === kind).map((p) => p.ms);
    return `${xs.reduce((s, x) => s + x, 0).toFixed(2)} ms (${xs.map((x) => x.toFixed(2)).join(' / ')})`;
  };
  return `CPU per atomic write (sync client, one ${seconds} s run, ${Math.round(Number(r.perSecond))} writes/s; node1 / node2 / node3):\n` +
    `  corosync  ${line('corosync')}\n  daemons   ${line('daemon')}\n\n`;
}

/** What corosync alone allows: K messages of 1 KiB one at a time from node1, no file system (cpg-floor.ts). */
async function corosyncFloor(node: NsNode, perOp: number, seconds: number): Promise<string> {
  const r = await node.run(process.execPath, [FLOOR, String(perOp), String(seconds)]);
  const line = r.out.split('\n').filter((l) => l.startsWith('{')).pop() ?? '';
  try {
    const j = JSON.parse(line) as { ok: boolean; perSecond?: number; p50Ms?: number; cpuUsPerMessage?: number; error?: string };
    if (!j.ok || j.perSecond === undefined || j.p50Ms === undefined) return `failed: ${j.error ?? line}`;
    const cpu = j.cpuUsPerMessage === undefined ? '' : `, the client's CPU ${j.cpuUsPerMessage.toFixed(0)} µs per message`;
    return `${Math.round(j.perSecond).toLocaleString('en-US')} /s, p50 ${j.p50Ms.toFixed(2)} ms${cpu}`;
  } catch {
    return `failed: ${r.out.trim().slice(-200)}`;
  }
}
const log = (s: string): void => void process.stderr.write(`bench --ns: ${s}\n`);

export const runProbe: ProbeRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PROBE, cmd, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      try {
        const j = JSON.parse(line ?? '') as { ok: boolean; result?: Record<string, unknown>; error?: string };
        if (j.ok && j.result) return resolve(j.result);
        reject(new Error(`${cmd}: ${j.error ?? 'failed'}`));
      } catch {
        reject(new Error(`${cmd}: exit ${code}: ${out}${err}`.trim()));
      }
    });
  });

export async function runNsBench(options: BenchOptions): Promise<number> {
  if (!NsCluster.available()) throw new Error('the namespace cluster needs root, unshare/nsenter/setpriv, corosync, /dev/fuse and a build');
  const seconds = Math.max(options.seconds, 3);
  log('starting three nodes in network namespaces');
  const cluster = await NsCluster.create({ nodes: 3 });
  let spans = '';
  let figures;
  let floors = '';
  let policy = 'unknown';
  try {
    const node1 = cluster.nodes[0]!;
    policy = corosyncPolicy(node1);
    figures = await replicatedWriteFigures(runProbe,
      { dir: node1.p('bench-ns'), mount: node1.mnt, runs: options.runs, seconds, patterns: options.patterns }, log);
    log('CPU per atomic write: one more sync run on node1');
    floors = await cpuPerWrite(cluster, node1.p('bench-ns'), seconds);
    log('corosync alone: 3 and 2 messages one at a time from node1 (cpg-floor.ts)');
    floors += `corosync alone, no file system (lab/bench/cpg-floor.ts on node1, 1 KiB messages, one at a time, ${seconds} s each):\n` +
      `  3 messages per operation (as an atomic write: CREATE, WRITE, RENAME)  ${await corosyncFloor(node1, 3, seconds)}\n` +
      `  2 messages per operation (as a lock pair: MKDIR, RMDIR)               ${await corosyncFloor(node1, 2, seconds)}\n\n`;
    const answer = await requestControl(node1.controlSocket, { cmd: 'status', logLines: 0 }, 10_000);
    if (answer.ok && answer.response.ok && 'status' in answer.response && answer.response.status.writeSpans !== undefined) {
      spans = `${renderSpans(answer.response.status.writeSpans).join('\n')}\n`;
    }
  } finally {
    await cluster.destroy();
  }
  process.stdout.write(`\npmxcfs-ts on a namespace cluster (3 nodes, corosync knet at ${policy}, token 1000 ms, token_coefficient 0): median of ${options.runs} run(s), ` +
    `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; C pmxcfs = issue 10's three-node figures of the same client pattern\n\n` +
    `${labTable(figures)}\n\n${floors}node1 ${spans}`);
  return 0;
}
