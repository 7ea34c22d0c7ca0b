/**
 * `npm run bench -- --lab`: replicated figures on the Docker lab (issue 4). The operations run inside
 * the containers (lab-probe.ts piped to `node -`), the lab CLI's own functions bring the lab up,
 * partition and heal it. Figures: atomic 1 KiB config writes on node1 (rate, p50/p99), lock
 * mkdir+rmdir pairs, how long a write on node1 takes to be seen on node2/node3, 500 KiB in 512-byte
 * writes, and the resync time of a node that missed N changes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultClusterName, heal, labCluster, labUp, partition, waitHealthy, waitQuorate } from '../lab';
import { BASE_NODES, nodeByName } from '../topology';
import { waitUntil } from '../wait';
import type { BenchOptions } from './args';
import { percentile } from './stats';
import { figureOf, labTable, replicatedWriteFigures, spansSection, type LabFigure } from './replicated';

const PROBE = path.join(__dirname, 'lab-probe.js');
const SOCKET = '/run/pve-cluster/pmxcfs-ts.sock';
const WORK = '/etc/pve/bench-lab';
const log = (s: string): void => void process.stderr.write(`bench --lab: ${s}\n`);

interface ProbeHandle {
  /** Resolves with the probe's result (rejects with its error or output). */
  result: Promise<Record<string, unknown>>;
  /** Resolves when the probe printed `ready` (watchers). */
  ready: Promise<void>;
}

/** Run one probe command inside a node of the lab cluster (engine exec, the probe script on stdin). */
function probe(node: string, cmd: string, args: Record<string, unknown>, timeoutMs = 300_000): ProbeHandle {
  let out = '';
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const result = (async (): Promise<Record<string, unknown>> => {
    const n = (await labCluster()).node(node);
    const r = await n.exec(['node', '-', cmd, JSON.stringify(args)], {
      input: fs.readFileSync(PROBE),
      timeoutMs,
      onStdout: (d) => {
        out += d.toString();
        if (/^ready$/m.test(out)) readyResolve();
      },
    });
    const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
    let j: { ok: boolean; result?: Record<string, unknown>; error?: string };
    try {
      j = JSON.parse(line ?? '') as typeof j;
    } catch {
      throw new Error(`${node} ${cmd}: exit ${r.code}: ${r.stdout}${r.stderr}`.trim());
    }
    if (j.ok && j.result) return j.result;
    throw new Error(`${node} ${cmd}: ${j.error ?? 'failed'}`);
  })();
  result.catch(() => readyResolve()); // a failed watcher must not leave its caller waiting for "ready"
  return { result, ready };
}

const run = async (node: string, cmd: string, args: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>> =>
  probe(node, cmd, args, timeoutMs).result;

async function shell(node: string, script: string): Promise<void> {
  await (await labCluster()).node(node).shOk(script);
}

/** node1's latency spans of its last replicated writes (pmxcfs-ts status --spans). */
async function spansOf(node: string): Promise<string> {
  const r = await (await labCluster()).node(node).exec(['pmxcfs-ts', 'status', '--spans']);
  return spansSection(r.stdout);
}

async function daemonVersion(node: string): Promise<{ version: number; quorate: boolean }> {
  return (await run(node, 'version', { socket: SOCKET })) as unknown as { version: number; quorate: boolean };
}

async function allDaemonsQuorate(): Promise<void> {
  await waitUntil('pmxcfs-ts quorate on node1..node3', () => Promise.all(BASE_NODES.map((n) => daemonVersion(n.name).catch(() => null))),
    (all) => all.every((s) => s?.quorate === true), { timeoutMs: 60_000, intervalMs: 250 });
}

/** Time from writing on node1 to first sighting on node2 and node3, over `count` writes. */
async function visibility(count: number): Promise<{ p50: number; p99: number; missed: number }> {
  const file = `${WORK}/visible.cfg`;
  await shell('node1', `mkdir -p ${WORK} && rm -f ${file}`);
  const watchers = ['node2', 'node3'].map((n) => probe(n, 'watch', { file, count, timeoutMs: count * 50 + 30_000 }));
  await Promise.all(watchers.map((w) => w.ready));
  const written = (await run('node1', 'writeSeq', { file, count, gapMs: 20 })) as { times: string[] };
  const delays: number[] = [];
  let missed = 0;
  for (const w of watchers) {
    const { seen } = (await w.result) as { seen: (string | null)[] };
    seen.forEach((t, i) => {
      if (t === null) missed++;
      else delays.push(Number(BigInt(t) - BigInt(written.times[i]!)) / 1e6);
    });
  }
  return { p50: percentile(delays, 50), p99: percentile(delays, 99), missed };
}

/** node3 misses n changes while cut off; time from the heal until its version equals node1's. */
async function resync(n: number): Promise<{ totalS: number; quorateS: number | null; fillS: number }> {
  const dir = `${WORK}/resync-${n}`;
  const [n1, n3] = [nodeByName('node1')!, nodeByName('node3')!];
  await partition(['node3']);
  await waitQuorate(n3, false, { timeoutMs: 30_000 });
  await waitQuorate(n1, true, { members: 2, timeoutMs: 30_000 });
  await waitUntil('node1 daemon quorate with two', () => daemonVersion('node1'), (s) => s.quorate, { timeoutMs: 30_000, intervalMs: 200 });
  const fill = (await run('node1', 'fill', { dir, n }, 600_000)) as { seconds: number };
  const target = (await daemonVersion('node1')).version;
  const healAt = process.hrtime.bigint();
  await heal(['node3']);
  const r = (await run('node3', 'waitVersion', { socket: SOCKET, target, timeoutMs: 300_000 }, 330_000)) as {
    reachedAt: string | null; quorateAt: string | null; version: number;
  };
  if (r.reachedAt === null) throw new Error(`node3 did not reach version ${target} (has ${r.version})`);
  await waitHealthy(BASE_NODES, { timeoutMs: 60_000 });
  await allDaemonsQuorate();
  await shell('node1', `rm -rf ${dir}`);
  return {
    totalS: Number(BigInt(r.reachedAt) - healAt) / 1e9,
    quorateS: r.quorateAt === null ? null : Number(BigInt(r.quorateAt) - healAt) / 1e9,
    fillS: fill.seconds,
  };
}

export async function runLabBench(options: BenchOptions, argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const seconds = Math.max(options.seconds, 3); // rate runs on the lab: at least 3 s each
  log('bringing the lab up from the current dist/ (reused when it is running)');
  await heal();
  await labUp({ log: (l) => log(l), corosyncRealtime: options.corosyncRealtime });
  await allDaemonsQuorate();
  await shell('node1', `rm -rf ${WORK} && mkdir -p ${WORK}`);
  const figures: LabFigure[] = [];
  const add = (f: Omit<LabFigure, 'value'>): void => void figures.push(figureOf(f));
  let spans = '';

  try {
    figures.push(...(await replicatedWriteFigures((cmd, args) => run('node1', cmd, args),
      { dir: WORK, mount: '/etc/pve', runs: options.runs, seconds, patterns: options.patterns }, log)));
    spans = await spansOf('node1');

    log(`visibility of node1 writes on node2/node3, ${options.runs} x 200 writes`);
    const vis = [];
    for (let i = 0; i < options.runs; i++) vis.push(await visibility(200));
    add({ key: 'visibleP50Ms', label: 'write on node1 visible on node2/3, p50', unit: 'ms', runs: vis.map((v) => v.p50), yardstickC: 10, goal: '<= 10 ms' });
    add({ key: 'visibleP99Ms', label: '  p99', unit: 'ms', runs: vis.map((v) => v.p99) });
    add({ key: 'visibleMissed', label: '  sightings missed (of 400 per run)', unit: '', runs: vis.map((v) => v.missed) });

    log(`500 KiB in 512-byte writes on node1, ${options.runs} runs`);
    const chunked = [];
    for (let i = 0; i < options.runs; i++) chunked.push(((await run('node1', 'chunked', { dir: WORK })) as { seconds: number }).seconds);
    add({ key: 'chunkedSeconds', label: '500 KiB in 512-byte writes, node1', unit: 's', runs: chunked, yardstickC: 6.6 });

    for (const n of [100, 1000, 10000]) {
      log(`resync of node3 after missing ${n} changes (one run)`);
      const r = await resync(n);
      add({ key: `resync${n}Seconds`, label: `resync after ${n.toLocaleString('en-US')} missed changes (heal -> same version)`, unit: 's', runs: [r.totalS] });
      if (r.quorateS !== null) add({ key: `resync${n}QuorateSeconds`, label: `  of which until node3 quorate`, unit: 's', runs: [r.quorateS] });
      log(`  ${n} writes on node1 took ${r.fillS.toFixed(1)} s; node3 equal ${r.totalS.toFixed(2)} s after the heal`);
    }
  } finally {
    await heal();
    await shell('node1', `rm -rf ${WORK}`).catch(() => undefined);
  }

  const policy = (await (await labCluster()).node('node1').corosyncPolicy()) ?? 'unknown';
  process.stdout.write(`\npmxcfs-ts on the Docker lab (3 nodes, corosync knet at ${policy}, token 1000 ms): median of ${options.runs} run(s), ` +
    `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; C pmxcfs = issue 10's three-node figures of the same client pattern\n\n${labTable(figures)}\n\n${spans}`);
  if (options.json !== undefined) {
    fs.writeFileSync(options.json, `${JSON.stringify({ date: new Date().toISOString(), command: ['npm', 'run', 'bench', '--', ...argv].join(' '),
      host: { kernel: os.release(), cpus: os.cpus().length, node: process.version }, runs: options.runs, secondsPerRun: seconds, figures }, null, 2)}\n`);
    log(`raw figures written to ${options.json}`);
  }
  // Kept for the next run, but its corosyncs take CPU even when idle (at SCHED_RR, about a quarter
  // of a core here), which skews whatever is measured next on this machine.
  log(`the lab cluster "${defaultClusterName()}" stays up for the next run; its corosyncs use CPU even when idle. ` +
    `Remove it before measuring anything else: node scripts/lab.js --cluster ${defaultClusterName()} down`);
  return 0;
}
