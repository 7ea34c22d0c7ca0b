/**
 * `npm run bench -- [--mount DIR] [--runs 3] [--json out.json] [--only name,...]`
 *
 * Measures a pmxcfs mount with one file operation in flight at a time and prints each figure next
 * to the C pmxcfs yardstick and the goal. The file operations run in a forked worker process; this
 * process only starts/stops the own daemon, reads /proc/<pid>/io and runs WAL checkpoints.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs, USAGE, type BenchOptions } from './args';
import { WalCheckpointer } from './checkpoint';
import { FIGURES, goalFor } from './figures';
import type { ClientPattern } from './fs-client';
import { runLabBench } from './lab-mode';
import { runNsBench } from './ns-mode';
import { isAmplification, MEASUREMENT_FIGURES, MEASUREMENT_NAMES } from './measurement-names';
import { AMPLIFICATION_FIGURE, FIXED_COUNT_BOUND_SECONDS } from './operations';
import { readProcIo } from './proc-io';
import { formatTable, type FigureResult } from './report';
import { median } from './stats';
import { externalTarget, isMountPoint, isTmpfs, startLocalDaemon, type Target } from './target';
import { WorkerClient } from './worker-client';

const MAX_OPS_PER_RUN = 1_000_000;
const SETUP_TIMEOUT_MS = (FIXED_COUNT_BOUND_SECONDS + 60) * 1000;

/** Reads the daemon's disk writes around one amplification run (see docs/benchmarks.md). */
class AmplificationProbe {
  private start = 0;

  constructor(private readonly pid: number, private readonly checkpointer: WalCheckpointer | undefined) {}

  /** Empties the WAL and flushes dirty pages (uncounted), so the run starts from a clean page cache. */
  before(): void {
    this.checkpointer?.checkpoint('TRUNCATE');
    spawnSync('sync');
    this.start = readProcIo(this.pid).writeBytes;
  }

  after(contentBytes: number): Record<string, number> {
    const daemonBytes = readProcIo(this.pid).writeBytes - this.start;
    let checkpointBytes = 0;
    let frames = { busy: 0, logFrames: 0, checkpointedFrames: 0 };
    if (this.checkpointer) {
      const self0 = readProcIo('self').writeBytes;
      frames = this.checkpointer.checkpoint('PASSIVE');
      checkpointBytes = readProcIo('self').writeBytes - self0;
    }
    return { contentBytes, daemonBytes, checkpointBytes, checkpointBusy: frames.busy, walFramesLeft: frames.logFrames,
      walFramesCheckpointed: frames.checkpointedFrames, amplification: (daemonBytes + checkpointBytes) / contentBytes };
  }
}

/** What a signal handler must end before it stops the daemon. */
const running: { worker?: WorkerClient; interrupted?: boolean } = {};

async function measureAll(options: BenchOptions, target: Target, log: (s: string) => void): Promise<FigureResult[]> {
  const names = MEASUREMENT_NAMES.filter((n) => !options.only || options.only.includes(n));
  const results: FigureResult[] = [];
  const skip = (name: string, note: string, patterns: readonly ClientPattern[] = options.patterns): void => {
    for (const pattern of patterns) for (const key of MEASUREMENT_FIGURES[name]!) results.push({ key, pattern, runs: [], note });
  };

  let checkpointer: WalCheckpointer | undefined;
  let ampSkipReason: string | undefined;
  if (names.some(isAmplification)) {
    if (target.pid === undefined) ampSkipReason = 'needs the daemon pid (--pid with --mount)';
    else if (target.db !== undefined) checkpointer = new WalCheckpointer(target.db);
  }

  const worker = new WorkerClient();
  running.worker = worker;
  const runTimeoutMs = (options.seconds + FIXED_COUNT_BOUND_SECONDS + 30) * 1000;
  try {
    await worker.call({ cmd: 'init', mount: target.mount, node: options.node, vmidBase: options.vmidBase,
      mustStayMounted: isMountPoint(target.mount) }, SETUP_TIMEOUT_MS);
    for (const name of names) {
      if (!worker.alive) {
        skip(name, 'not run: the worker died earlier');
        continue;
      }
      const amp = isAmplification(name);
      if (amp && ampSkipReason) {
        skip(name, ampSkipReason);
        continue;
      }
      // Write amplification is about the daemon: measured with the synchronous client only.
      const patterns = amp ? options.patterns.filter((p) => p === 'sync') : options.patterns;
      for (const pattern of patterns) {
        log(`${name} (${pattern} client) ...`);
        const probe = amp ? new AmplificationProbe(target.pid!, checkpointer) : undefined;
        const perRun: Record<string, number>[] = [];
        try {
          await worker.call({ cmd: 'setup', name }, SETUP_TIMEOUT_MS);
          for (let run = 0; run < options.runs; run++) {
            probe?.before();
            const raw = await worker.call({ cmd: 'run', name, pattern, limits: { seconds: options.seconds, maxOps: MAX_OPS_PER_RUN } }, runTimeoutMs);
            perRun.push(probe ? probe.after(raw.contentBytes!) : raw);
            await worker.call({ cmd: 'afterRun', name }, SETUP_TIMEOUT_MS);
          }
        } catch (err) {
          skip(name, `failed: ${(err as Error).message}`, [pattern]);
          perRun.length = 0;
        } finally {
          if (worker.alive) await worker.call({ cmd: 'teardown', name }, SETUP_TIMEOUT_MS).catch(() => undefined);
        }
        if (perRun.length === 0) continue;
        if (probe) {
          const runs = perRun.map((r) => r.amplification!);
          results.push({
            key: AMPLIFICATION_FIGURE[name]!,
            pattern,
            value: median(runs),
            runs,
            details: perRun,
            note: checkpointer
              ? 'daemon write_bytes + closing WAL checkpoint'
              : 'daemon write_bytes only (no --db: closing WAL checkpoint not included)',
          });
        } else {
          for (const key of MEASUREMENT_FIGURES[name]!) {
            const runs = perRun.map((r) => r[key]!);
            results.push({ key, pattern, value: median(runs), runs });
          }
        }
      }
    }
    if (worker.alive) {
      await worker.call({ cmd: 'finish' }, SETUP_TIMEOUT_MS).catch((err: Error) => log(`cleanup in the mount failed: ${err.message}`));
    } else if (options.mount !== undefined) {
      log(`the worker died: its scratch directory bench-<pid> in ${target.mount} may be left behind`);
    }
  } finally {
    worker.close();
    checkpointer?.close();
  }
  return results;
}

function jsonDocument(options: BenchOptions, target: Target, results: FigureResult[], argv: string[]): unknown {
  return {
    date: new Date().toISOString(),
    command: ['npm', 'run', 'bench', '--', ...argv].join(' '),
    target: { description: target.description, mount: target.mount, pid: target.pid ?? null, db: target.db ?? null,
      ownDaemon: options.mount === undefined },
    host: { hostname: os.hostname(), kernel: os.release(), cpus: os.cpus().length, node: process.version,
      loadAverage: os.loadavg() },
    runs: options.runs,
    secondsPerRun: options.seconds,
    figures: results.map((r) => {
      const spec = FIGURES.find((f) => f.key === r.key)!;
      return { ...r, label: spec.label, unit: spec.unit, yardstickC: spec.yardstick?.[r.pattern] ?? null, goal: goalFor(spec, r.pattern) ?? null };
    }),
  };
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const options = parsed.options;
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.lab) return runLabBench(options);
  if (options.ns) return runNsBench(options);

  const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
  let target: Target;
  if (options.mount !== undefined) {
    target = externalTarget(options.mount, options.pid, options.db);
  } else {
    const tmp = options.tmp ?? os.tmpdir();
    if (isTmpfs(tmp)) log(`${tmp} is tmpfs: write amplification will read 0 (use --tmp on a disk file system)`);
    const daemon = options.daemon ?? path.resolve(__dirname, '../../src/main.js');
    log('starting an own local-mode daemon');
    target = await startLocalDaemon(daemon, options.node, tmp);
  }

  const stopOnSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping`);
    running.interrupted = true;
    running.worker?.kill(); // first, so nothing writes into the mount point once it is unmounted
    void target.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  let results: FigureResult[];
  try {
    log(`measuring ${target.description}, ${options.runs} run(s), up to ${options.seconds} s per rate run`);
    results = await measureAll(options, target, log);
  } finally {
    await target.stop();
  }
  if (running.interrupted) return 130;
  process.stdout.write(`\npmxcfs benchmark: ${target.description}\nmedian of ${options.runs} run(s); load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; C = reference pmxcfs in local mode, same client pattern (issue 10's table)\n\n`);
  process.stdout.write(`${formatTable(results)}\n`);
  if (options.json !== undefined) {
    fs.writeFileSync(options.json, `${JSON.stringify(jsonDocument(options, target, results, argv), null, 2)}\n`);
    log(`raw figures written to ${options.json}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(1);
  },
);
