/**
 * What an RRD file of each kind looks like when pmxcfs-ts creates it (spec §11.2): the data sources
 * (names, DERIVE for counters, GAUGE otherwise, heartbeat 120 s, min 0, max unknown), the archives
 * (AVERAGE and MAX at 1, 30, 360 and 10080 steps), the 60 s step and the start time (local midnight
 * of the sample's day). Also the check of an update string before it reaches librrd or rrdcached
 * (rrdcached accepts a wrong column count and only fails when it flushes, unseen).
 * Pure: the shell (rrd-writer) creates and updates the files.
 */
import type { RrdKind } from '../kvstore/rrd-key';

export const RRD_STEP_SECONDS = 60;
export const RRD_HEARTBEAT_SECONDS = 120;
/** xff: an archive row is known when at least half of its primary points are. */
export const RRD_XFF = 0.5;

/** Counters (bytes since boot) are DERIVE: the graph shows their rate. */
const DERIVE_SOURCES = new Set(['netin', 'netout', 'diskread', 'diskwrite']);

export const RRD_SOURCES: Record<RrdKind, readonly string[]> = {
  node: [
    'loadavg', 'maxcpu', 'cpu', 'iowait', 'memtotal', 'memused', 'swaptotal', 'swapused',
    'roottotal', 'rootused', 'netin', 'netout', 'memavailable', 'arcsize',
    'pressurecpusome', 'pressureiosome', 'pressureiofull', 'pressurememorysome', 'pressurememoryfull',
  ],
  vm: [
    'maxcpu', 'cpu', 'maxmem', 'mem', 'maxdisk', 'disk', 'netin', 'netout', 'diskread', 'diskwrite',
    'memhost', 'pressurecpusome', 'pressurecpufull', 'pressureiosome', 'pressureiofull',
    'pressurememorysome', 'pressurememoryfull',
  ],
  storage: ['total', 'used'],
};

/** Steps per row and rows of each archive: 1 min for a day, 30 min for a month, 6 h for a year, a week for ~11 years. */
export const RRD_ARCHIVES: readonly { steps: number; rows: number }[] = [
  { steps: 1, rows: 1440 },
  { steps: 30, rows: 1440 },
  { steps: 360, rows: 1440 },
  { steps: 10080, rows: 570 },
];

export type RrdSourceType = 'GAUGE' | 'DERIVE';

export function rrdSourceType(name: string): RrdSourceType {
  return DERIVE_SOURCES.has(name) ? 'DERIVE' : 'GAUGE';
}

/** The `DS:` and `RRA:` arguments of rrd_create for one kind, in file order (all AVERAGE, then all MAX). */
export function rrdCreateArgs(kind: RrdKind): string[] {
  const sources = RRD_SOURCES[kind].map((name) => `DS:${name}:${rrdSourceType(name)}:${RRD_HEARTBEAT_SECONDS}:0:U`);
  const archives = (['AVERAGE', 'MAX'] as const).flatMap((cf) =>
    RRD_ARCHIVES.map((a) => `RRA:${cf}:${RRD_XFF}:${a.steps}:${a.rows}`),
  );
  return [...sources, ...archives];
}

/**
 * Start time of a new file: local midnight of the sample's day (the reference uses the day of
 * "now", which is the same day for a live sample). A sample at exactly midnight would be refused as
 * "not newer than the start", so the start then moves one second back.
 */
export function rrdStartTime(sampleTime: number): number {
  const d = new Date(sampleTime * 1000);
  d.setHours(0, 0, 0, 0);
  const midnight = Math.floor(d.getTime() / 1000);
  return midnight < sampleTime ? midnight : sampleTime - 1;
}

export interface RrdCreateParams {
  step: number;
  start: number;
  args: string[];
}

export function rrdCreateParams(kind: RrdKind, sampleTime: number): RrdCreateParams {
  return { step: RRD_STEP_SECONDS, start: rrdStartTime(sampleTime), args: rrdCreateArgs(kind) };
}

/** A number as rrdtool parses it (decimal, optional sign, fraction and exponent) or U for unknown. */
const VALUE_RE = /^(?:U|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;
const TIMESTAMP_RE = /^[1-9]\d{0,11}$/;

export type RrdUpdateCheck = { ok: true; time: number } | { ok: false; error: string };

/**
 * `<ts>:<v1>:...:<vN>` with exactly the kind's N values, an absolute positive integer timestamp
 * (rrdcached only takes absolute ones) and numbers or U as values.
 */
export function checkRrdUpdate(kind: RrdKind, update: string): RrdUpdateCheck {
  const fields = update.split(':');
  const expected = RRD_SOURCES[kind].length;
  if (fields.length !== expected + 1) {
    return { ok: false, error: `expected ${expected} values, got ${fields.length - 1}` };
  }
  const ts = fields[0]!;
  if (!TIMESTAMP_RE.test(ts)) return { ok: false, error: `bad timestamp '${printable(ts)}'` };
  for (let i = 1; i < fields.length; i++) {
    if (!VALUE_RE.test(fields[i]!)) {
      return { ok: false, error: `bad value '${printable(fields[i]!)}' for ${RRD_SOURCES[kind][i - 1]}` };
    }
  }
  return { ok: true, time: Number(ts) };
}

/**
 * A file name below the RRD directory that is safe on disk and in rrdcached's line protocol: no
 * `.`/`..` segments (they would leave the kind's directory), no whitespace or control characters
 * (a newline would inject a second rrdcached command).
 */
export function isSafeRrdFile(file: string): boolean {
  if (file === '' || file.startsWith('/')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(file)) return false;
  return file.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** For log lines: control characters shown as `?`, cut to 64 characters. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}
