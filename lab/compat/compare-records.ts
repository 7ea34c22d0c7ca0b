/**
 * Compares two outputs of lab/compat/ipc-probe (one JSON record per line; the reference's and
 * pmxcfs-ts's) and prints every record that differs after normalisation. Normalised, because they
 * must differ or are unspecified in the reference: start times, entry times and pids; per-guest
 * versions of a rebuilt VMID list; GLib hash order (guest lists, guest-property replies, kvstore
 * keys of `.version`, RRD dump lines) — see docs/differences.md.
 *
 *   node dist/lab/compat/compare-records.js REF.jsonl TS.jsonl     exit 0 when nothing differs
 */
import { readFileSync } from 'node:fs';

export interface ProbeRecord {
  name: string;
  [field: string]: unknown;
}

/** Sorts the lines [from, to) of `lines` in place (after stripping a trailing comma). */
function sortLines(lines: string[], from: number, to: number): void {
  if (to - from < 2) return;
  lines.splice(from, to - from, ...lines.slice(from, to).map((l) => l.replace(/,$/, '')).sort());
}

/** The text with what may legitimately differ between the two daemons taken out. */
export function normaliseText(text: string): string {
  let t = text
    .replace(/"starttime": \d+/g, '"starttime": T')
    .replace(/"time": \d+/g, '"time": T')
    .replace(/"pid": \d+/g, '"pid": P');
  const lines = t.split('\n');
  // .vmlist / GET_GUEST_LIST: per-guest versions after a rebuild and the order of the guests.
  if (t.includes('"ids": {')) {
    for (let i = 0; i < lines.length; i++) lines[i] = lines[i]!.replace(/("type": "\w+", "version": )\d+/, '$1V').replace(/ \}\}?$/, ' }');
    const guest = (l: string): boolean => /^"\d+": \{ "node"/.test(l);
    const first = lines.findIndex(guest);
    if (first >= 0) {
      let end = first;
      while (end < lines.length && guest(lines[end]!)) end++;
      sortLines(lines, first, end);
    }
  }
  // Guest-property replies: one `"<vmid>":{...}` line per guest.
  if (lines[0] === '{' && lines.length > 3 && /^"\d+":\{/.test(lines[1]!)) sortLines(lines, 1, lines.length - 2);
  // .version: the kvstore block's keys.
  const kv = lines.indexOf('"kvstore": {');
  if (kv >= 0) {
    for (let i = kv + 1; i < lines.length; i++) lines[i] = lines[i]!.replace(/\}$/, '');
    sortLines(lines, kv + 1, lines.length);
  }
  // RRD dump: `key:data` lines, then the NUL of the IPC reply.
  if (/^[\w.-]+\/[^:\n]*:/.test(t)) {
    const end = lines.length - 1;
    sortLines(lines, 0, end);
  }
  t = lines.join('\n');
  return t;
}

function normaliseRecord(r: ProbeRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'string' ? normaliseText(v) : v;
  return out;
}

export interface RecordDifference {
  name: string;
  fields: { field: string; ref: unknown; ts: unknown }[];
}

/** Differences record by record; throws if the two runs did not ask the same questions. */
export function compareRecords(ref: ProbeRecord[], ts: ProbeRecord[]): RecordDifference[] {
  if (ref.length !== ts.length) throw new Error(`record counts differ: ${ref.length} vs ${ts.length}`);
  const diffs: RecordDifference[] = [];
  ref.forEach((r, i) => {
    const t = ts[i]!;
    if (r.name !== t.name) throw new Error(`record ${i}: '${r.name}' vs '${t.name}'`);
    const a = normaliseRecord(r);
    const b = normaliseRecord(t);
    const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]))
      .map((field) => ({ field, ref: a[field], ts: b[field] }));
    if (fields.length > 0) diffs.push({ name: r.name, fields });
  });
  return diffs;
}

function readRecords(file: string): ProbeRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeRecord);
}

if (require.main === module) {
  const [refFile, tsFile] = process.argv.slice(2);
  if (refFile === undefined || tsFile === undefined) {
    console.error('usage: compare-records REF.jsonl TS.jsonl');
    process.exit(2);
  }
  const ref = readRecords(refFile);
  const diffs = compareRecords(ref, readRecords(tsFile));
  for (const d of diffs) {
    console.log(`=== ${d.name}`);
    for (const f of d.fields) console.log(`  ${f.field}\n    ref ${JSON.stringify(f.ref)}\n    ts  ${JSON.stringify(f.ts)}`);
  }
  console.log(`${ref.length} records, ${diffs.length} differ`);
  process.exit(diffs.length === 0 ? 0 : 1);
}
