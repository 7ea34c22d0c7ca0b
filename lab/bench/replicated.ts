/**
 * Replicated-write figures of a three-node cluster, for both client patterns (fs-client.ts): atomic
 * 1 KiB config writes (tmp + rename) and lock pairs (mkdir + rmdir) on node1, each beside the
 * reference's figure of the same pattern from issue 10's three-node table. Shared by `--lab` (Docker
 * containers) and `--ns` (network namespaces); the operations run in lab-probe.ts.
 */
import type { ClientPattern } from './fs-client';
import { median } from './stats';

export interface LabFigure {
  key: string;
  label: string;
  unit: string;
  value: number;
  runs: number[];
  yardstickC?: number;
  goal?: string;
}

/** Runs one lab-probe command on node1 and resolves with its result. */
export type ProbeRunner = (cmd: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * issue 10, three nodes (reference 3.1.7 corosync knet, token 1000, token_coefficient 0, client on
 * node1, one operation in flight, medians).
 */
export const THREE_NODE_C: Record<'atomic' | 'atomicP50' | 'atomicP99' | 'locks', Record<ClientPattern, number>> = {
  atomic: { async: 184, sync: 207 },
  atomicP50: { async: 4.6, sync: 3.5 },
  atomicP99: { async: 12.9, sync: 15.0 },
  locks: { async: 246, sync: 420 },
};

export function figureOf(f: Omit<LabFigure, 'value'>): LabFigure {
  return { ...f, value: median(f.runs) };
}

export async function replicatedWriteFigures(
  run: ProbeRunner,
  o: { dir: string; mount: string; runs: number; seconds: number; patterns: readonly ClientPattern[] },
  log: (s: string) => void,
): Promise<LabFigure[]> {
  const figures: LabFigure[] = [];
  for (const client of o.patterns) {
    log(`atomic 1 KiB writes on node1, ${client} client, ${o.runs} x ${o.seconds} s`);
    const atomic = [];
    for (let i = 0; i < o.runs; i++) atomic.push((await run('atomic', { dir: o.dir, seconds: o.seconds, client })) as Record<string, number>);
    const c = (k: keyof typeof THREE_NODE_C) => THREE_NODE_C[k][client];
    figures.push(figureOf({ key: `atomicWritesPerSecond.${client}`, label: `atomic 1 KiB writes (tmp + rename), node1, ${client}`, unit: '/s',
      runs: atomic.map((r) => r.perSecond!), yardstickC: c('atomic'), goal: `>= ${2 * c('atomic')} /s` }));
    figures.push(figureOf({ key: `atomicWriteP50Ms.${client}`, label: '  latency p50', unit: 'ms', runs: atomic.map((r) => r.p50Ms!),
      yardstickC: c('atomicP50'), goal: `< ${c('atomicP50')} ms` }));
    figures.push(figureOf({ key: `atomicWriteP99Ms.${client}`, label: '  latency p99', unit: 'ms', runs: atomic.map((r) => r.p99Ms!), yardstickC: c('atomicP99') }));

    log(`lock pairs on node1, ${client} client, ${o.runs} x ${o.seconds} s`);
    const locks = [];
    for (let i = 0; i < o.runs; i++) locks.push((await run('lock', { mount: o.mount, seconds: o.seconds, client })) as Record<string, number>);
    figures.push(figureOf({ key: `lockPairsPerSecond.${client}`, label: `lock mkdir+rmdir pairs, node1, ${client}`, unit: '/s',
      runs: locks.map((r) => r.perSecond!), yardstickC: c('locks'), goal: `>= ${2 * c('locks')} /s` }));
    figures.push(figureOf({ key: `lockPairP50Ms.${client}`, label: '  latency p50', unit: 'ms', runs: locks.map((r) => r.p50Ms!) }));
  }
  return figures;
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '-';
  if (unit === '/s') return Math.round(v).toLocaleString('en-US');
  return v < 10 ? v.toFixed(2) : v.toFixed(1);
}

export function labTable(figures: readonly LabFigure[]): string {
  const rows = [['figure', 'pmxcfs-ts', 'C pmxcfs', 'goal', 'runs'],
    ...figures.map((f) => [f.label, `${fmt(f.value, f.unit)} ${f.unit}`, f.yardstickC === undefined ? '-' : `${fmt(f.yardstickC, f.unit)} ${f.unit}`,
      f.goal ?? '-', f.runs.map((r) => fmt(r, f.unit)).join(' / ')])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

/** The span tables of `pmxcfs-ts status --spans` output (from "write spans" up to the cluster log). */
export function spansSection(statusText: string): string {
  const from = statusText.indexOf('write spans:');
  if (from < 0) return '';
  const to = statusText.indexOf('cluster log', from);
  return `${statusText.slice(from, to < 0 ? undefined : to).trimEnd()}\n`;
}
