/** The printed table and the JSON document of a bench run. Pure formatting. */
import { FIGURES, verdict, type Verdict } from './figures';

export interface FigureResult {
  key: string;
  /** Median over the runs; absent when the measurement was skipped or failed. */
  value?: number;
  runs: number[];
  /** Why there is no value, or how it was obtained. */
  note?: string;
  /** Raw per-run numbers behind the figure (e.g. the byte counts of write amplification). */
  details?: Record<string, number>[];
}

export function formatNumber(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  switch (unit) {
    case '/s':
      return Math.round(value).toLocaleString('en-US');
    case 'x':
      return value.toFixed(1);
    case 's':
      return value.toFixed(value < 10 ? 3 : 1);
    default:
      return value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(0);
  }
}

interface Row {
  label: string;
  value: string;
  c: string;
  goal: string;
  result: Verdict | 'skip';
  note?: string;
}

export function tableRows(results: readonly FigureResult[]): Row[] {
  const rows: Row[] = [];
  for (const spec of FIGURES) {
    const r = results.find((x) => x.key === spec.key);
    if (!r) continue;
    const v = verdict(r.value, spec.goal);
    rows.push({
      label: `${spec.label} (${spec.unit})`,
      value: formatNumber(r.value, spec.unit),
      c: formatNumber(spec.yardstick, spec.unit),
      goal: spec.goal?.text ?? '-',
      result: v === 'n/a' ? 'skip' : v,
      ...(r.note !== undefined ? { note: r.note } : {}),
    });
  }
  return rows;
}

export function formatTable(results: readonly FigureResult[]): string {
  const rows = tableRows(results);
  const header = ['figure', 'pmxcfs-ts', 'C pmxcfs', 'goal', 'result'];
  const cells = rows.map((r) => [r.label, r.value, r.c, r.goal, r.result]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const c of cells) out.push(line(c));
  const notes = rows.filter((r) => r.note !== undefined).map((r) => `  ${r.label}: ${r.note}`);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n');
}
