/**
 * A/B of two builds on the three-node namespace cluster: `node dist/lab/bench/ab-ns.js --builds A,B`
 * where A and B are project directories with a built dist/ (e.g. copies of dist/ before and after a
 * change). Every round starts a fresh cluster per build, runs the same probe on node1 (this build's
 * lab-probe.js, so the client is identical) and reads each daemon's CPU from /proc. The order
 * alternates per round (A B, B A, ...): on this kind of machine the second cluster of a round is
 * often slower, whichever build it runs. Prints every round and the medians per build.
 */
import * as os from 'os';
import * as path from 'path';
import { cpuMs } from './proc-cpu';
import { runProbe } from './ns-mode';
import { median } from './stats';

type NsClusterModule = typeof import('../ns-cluster');

export interface AbOptions {
  builds: string[];
  rounds: number;
  seconds: number;
  op: 'atomic' | 'lock';
  client: 'sync' | 'async';
}

interface Row {
  perSecond: number;
  p50Ms: number;
  /** Daemon CPU per operation, node1..node3, ms. */
  daemonMs: number[];
}

const USAGE = 'usage: node dist/lab/bench/ab-ns.js --builds DIR_A,DIR_B [--rounds 4] [--seconds 5] [--op atomic|lock] [--client sync|async]';

export function parseAbArgs(argv: string[]): AbOptions {
  const o: AbOptions = { builds: [], rounds: 4, seconds: 5, op: 'atomic', client: 'sync' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--builds': o.builds = (v ?? '').split(',').filter((b) => b !== '').map((b) => path.resolve(b)); i++; break;
      case '--rounds': o.rounds = Number(v); i++; break;
      case '--seconds': o.seconds = Number(v); i++; break;
      case '--op': if (v !== 'atomic' && v !== 'lock') throw new Error(USAGE); o.op = v; i++; break;
      case '--client': if (v !== 'sync' && v !== 'async') throw new Error(USAGE); o.client = v; i++; break;
      default: throw new Error(USAGE);
    }
  }
  if (o.builds.length < 2 || !(o.rounds >= 1) || !(o.seconds >= 1)) throw new Error(USAGE);
  return o;
}

async function oneRun(build: string, o: AbOptions): Promise<Row> {
  const { NsCluster } = require(path.join(build, 'dist', 'lab', 'ns-cluster.js')) as NsClusterModule;
  const cluster = await NsCluster.create({ nodes: 3 });
  try {
    const node1 = cluster.nodes[0]!;
    const pids = cluster.nodes.map((n) => n.daemon?.pid ?? -1);
    const before = pids.map((p) => cpuMs(p));
    const r = await runProbe(o.op, { dir: node1.p('bench-ab'), mount: node1.mnt, seconds: o.seconds, client: o.client });
    const ops = Number(r.ops);
    const daemonMs = pids.map((p, i) => {
      const a = before[i];
      const b = cpuMs(p);
      return a === null || a === undefined || b === null || !(ops > 0) ? NaN : (b - a) / ops;
    });
    return { perSecond: Number(r.perSecond), p50Ms: Number(r.p50Ms), daemonMs };
  } finally {
    await cluster.destroy();
  }
}

/** The order of the builds in round `round`: as given in even rounds, reversed in odd ones. */
export function roundOrder(round: number, builds: number): number[] {
  const order = Array.from({ length: builds }, (_, i) => i);
  return round % 2 === 1 ? order.reverse() : order;
}

async function main(): Promise<number> {
  const o = parseAbArgs(process.argv.slice(2));
  const rows: Row[][] = o.builds.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (const b of roundOrder(r, o.builds.length)) {
      const row = await oneRun(o.builds[b]!, o);
      rows[b]!.push(row);
      process.stdout.write(`round ${r} ${o.builds[b]}: ${row.perSecond.toFixed(0)}/s p50 ${row.p50Ms.toFixed(2)} ms, daemon CPU per op ` +
        `${row.daemonMs.map((x) => x.toFixed(2)).join(' / ')} ms, load ${os.loadavg()[0]!.toFixed(2)}\n`);
    }
  }
  process.stdout.write(`\n${o.op} (${o.client} client), ${o.rounds} rounds of ${o.seconds} s, medians:\n`);
  o.builds.forEach((b, i) => {
    const rs = rows[i]!;
    const cpu = [0, 1, 2].map((n) => median(rs.map((x) => x.daemonMs[n]!)).toFixed(2)).join(' / ');
    process.stdout.write(`  ${b}: ${median(rs.map((x) => x.perSecond)).toFixed(0)}/s, p50 ${median(rs.map((x) => x.p50Ms)).toFixed(2)} ms, daemon CPU per op ${cpu} ms\n`);
  });
  return 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
