/**
 * The printed table and the JSON document of a bench run. Pure formatting. Each client pattern has
 * its own columns with the reference's figure of the same pattern beside it; no ratio is ever taken
 * across patterns.
 */
import { FIGURES, goalFor, verdict, type Verdict } from './figures';
import { CLIENT_PATTERNS, type ClientPattern } from './fs-client';

export interface FigureResult {
  key: string;
  pattern: ClientPattern;
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

interface Cell {
  value: string;
  c: string;
  goal: string;
  result: Verdict | 'skip';
  note?: string;
}

interface Row {
  label: string;
  cells: Partial<Record<ClientPattern, Cell>>;
}

export function tableRows(results: readonly FigureResult[]): Row[] {
  const rows: Row[] = [];
  for (const spec of FIGURES) {
    const cells: Row['cells'] = {};
    for (const pattern of CLIENT_PATTERNS) {
      const r = results.find((x) => x.key === spec.key && x.pattern === pattern);
      if (!r) continue;
      const goal = goalFor(spec, pattern);
      const v = verdict(r.value, goal);
      cells[pattern] = {
        value: formatNumber(r.value, spec.unit),
        c: formatNumber(spec.yardstick?.[pattern], spec.unit),
        goal: goal?.text ?? '-',
        result: v === 'n/a' ? 'skip' : v,
        ...(r.note !== undefined ? { note: r.note } : {}),
      };
    }
    if (Object.keys(cells).length > 0) rows.push({ label: `${spec.label} (${spec.unit})`, cells });
  }
  return rows;
}

export function formatTable(results: readonly FigureResult[]): string {
  const rows = tableRows(results);
  const patterns = CLIENT_PATTERNS.filter((p) => rows.some((r) => r.cells[p] !== undefined));
  const header = ['figure', ...patterns.flatMap((p) => [`${p} ts`, `${p} C`, 'goal', 'result'])];
  const cells = rows.map((r) => [r.label, ...patterns.flatMap((p) => {
    const c = r.cells[p];
    return c === undefined ? ['', '', '', ''] : [c.value, c.c, c.goal, c.result];
  })]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const c of cells) out.push(line(c));
  const notes = rows.flatMap((r) => patterns.flatMap((p) => (r.cells[p]?.note !== undefined ? [`  ${r.label}, ${p}: ${r.cells[p]!.note}`] : [])));
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n');
}
