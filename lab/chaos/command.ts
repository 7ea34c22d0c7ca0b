// `npm run lab -- chaos ...` on a cluster of the lab library (the CLI's cluster, --cluster / LAB_CLUSTER).
import * as path from 'path';
import { MAX_NODES } from '../cluster';
import { labPaths } from '../topology';
import { labCluster, labUp, LabError } from '../lab';
import { parseChaosArgs } from './args';
import { describeFault, generateSchedule } from './schedule';
import { LabChaosCluster } from './lab-cluster';
import { replayCommand, runChaos } from './runner';
import { parseJsonLines } from './history';
import { runCheckers } from './checkers';
import { renderReport } from './report';
import * as fs from 'fs';

/** Where a running chaos run leaves its live rates for the dashboard. */
export function liveFile(): string {
  return path.join(labPaths().stateDir, 'chaos-live.json');
}

/** `lab chaos-report <history.jsonl> [report.html]`: the checkers and the report again from a history. */
export function chaosReportCommand(argv: readonly string[], log: (l: string) => void): number {
  const [input, output] = argv;
  if (!input) throw new LabError('usage: chaos-report <history.jsonl> [report.html]');
  const history = parseJsonLines(fs.readFileSync(input, 'utf8'));
  const results = runCheckers(history);
  const out = output ?? input.replace(/\.jsonl$/, '') + '.html';
  fs.writeFileSync(out, renderReport({ history, results, replayCommand: replayCommand({ ...history.meta }, history.meta.nodes.length) }));
  for (const c of results) log(`${c.verdict.toUpperCase().padEnd(4)} ${c.name}: ${c.summary}${c.forkCount ? ` [fork window: ${c.forkCount}]` : ''}`);
  log(`report ${out}`);
  return results.every((r) => r.verdict === 'pass') ? 0 : 1;
}

export async function chaosCommand(argv: readonly string[], log: (l: string) => void): Promise<number> {
  const a = parseChaosArgs(argv, { out: path.join(labPaths().stateDir, 'chaos'), seed: Date.now() % 1_000_000 });
  if (a.nodes > MAX_NODES) throw new LabError(`a lab cluster has at most ${MAX_NODES} nodes`);
  if (a.planOnly) {
    const names = Array.from({ length: a.nodes }, (_, i) => `node${i + 1}`);
    const plan = generateSchedule({ seed: a.seed, nodes: names, durationMs: a.durationS * 1000, faults: a.faults });
    log(`schedule for seed ${a.seed}, ${a.nodes} nodes, ${a.durationS} s: ${plan.length} faults`);
    for (const f of plan) console.log(`${(f.at / 1000).toFixed(1)}s +${(f.durationMs / 1000).toFixed(1)}s ${describeFault(f)}`);
    return 0;
  }
  // The CLI's cluster with that many nodes: reused when it runs this checkout's image, else started.
  await labUp({ log, nodes: a.nodes });
  const cluster = new LabChaosCluster(await labCluster());
  const r = await runChaos(cluster, { seed: a.seed, durationMs: a.durationS * 1000, faults: a.faults, clientsPerNode: a.clients, thinkMs: a.thinkMs, outDir: a.out, log, liveFile: liveFile() });
  const counts = { ok: 0, fail: 0, unknown: 0 } as Record<string, number>;
  for (const o of r.history.ops) counts[o.outcome]!++;
  log(`${r.history.ops.length} operations (${counts.ok} ok, ${counts.fail} failed, ${counts.unknown} unknown), ${r.history.faults.length} faults`);
  for (const c of r.results) log(`${c.verdict.toUpperCase().padEnd(4)} ${c.name}: ${c.summary}${c.forkCount ? ` [fork window: ${c.forkCount}]` : ''}`);
  log(`history ${r.historyFile}`);
  log(`report  ${r.reportFile}`);
  return r.passed ? 0 : 1;
}
