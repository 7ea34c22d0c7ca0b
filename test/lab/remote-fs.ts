// File-system calls made inside a lab node by a short Node program (the image has /usr/local/bin/node),
// so the tests see exact errno codes and modes instead of parsing the messages of shell tools.
// Every call runs in its own process in the container: never in the daemon, never on this host.
import { expect } from 'vitest';
import { execIn } from './lab-fixture';

export type FsOp =
  | { op: 'write'; path: string; data: string } // open(w) + write + close: the close reports the commit
  | { op: 'create'; path: string } // open(wx), close
  | { op: 'read'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'unlink'; path: string }
  | { op: 'rename'; path: string; to: string }
  | { op: 'utimes'; path: string; atime: number; mtime: number }
  | { op: 'stat'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'readdir'; path: string };

export interface FsResult {
  op: string;
  path: string;
  ok: boolean;
  code?: string; // EACCES, EEXIST, ... when !ok
  mode?: number; // permission bits, for stat/lstat
  data?: string; // read (utf8) / readdir (names joined by '\n')
}

// Plain JavaScript run by `node -e` in the container; the ops come as JSON on stdin.
const FS_OPS_PROGRAM = String.raw`
const fs = require('fs');
const ops = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = [];
for (const o of ops) {
  const r = { op: o.op, path: o.path, ok: true };
  try {
    switch (o.op) {
      case 'write': { const fd = fs.openSync(o.path, 'w'); try { fs.writeSync(fd, o.data); } finally { fs.closeSync(fd); } break; }
      case 'create': fs.closeSync(fs.openSync(o.path, 'wx')); break;
      case 'read': r.data = fs.readFileSync(o.path, 'utf8'); break;
      case 'mkdir': fs.mkdirSync(o.path); break;
      case 'rmdir': fs.rmdirSync(o.path); break;
      case 'unlink': fs.unlinkSync(o.path); break;
      case 'rename': fs.renameSync(o.path, o.to); break;
      case 'utimes': fs.utimesSync(o.path, o.atime, o.mtime); break;
      case 'stat': r.mode = fs.statSync(o.path).mode & 0o7777; break;
      case 'lstat': r.mode = fs.lstatSync(o.path).mode & 0o7777; break;
      case 'readdir': r.data = fs.readdirSync(o.path).sort().join('\n'); break;
      default: throw Object.assign(new Error('unknown op'), { code: 'EINVAL' });
    }
  } catch (e) { r.ok = false; r.code = e.code || String(e); }
  out.push(r);
}
process.stdout.write(JSON.stringify(out));
`;

/** Run the ops one after the other inside `node`; each reports success or its errno code. */
export async function remoteFs(node: string, ops: readonly FsOp[], timeoutMs = 60_000): Promise<FsResult[]> {
  const r = await execIn(node, ['node', '-e', FS_OPS_PROGRAM], { input: JSON.stringify(ops), timeoutMs });
  if (r.code !== 0) throw new Error(`fs ops on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as FsResult[];
}

/** One op; convenience for single checks. */
export async function remoteOp(node: string, op: FsOp): Promise<FsResult> {
  return (await remoteFs(node, [op]))[0]!;
}

// Writes files dir/<prefix><i> (i = 0..count-1) one after the other, each open+write+close, and
// prints one line per file: "ok <i>" when close returned (the write is acknowledged), else
// "err <i> <code>". Starts at the wall-clock time startAt (ms) when given, so that two nodes race.
const WRITE_MANY_PROGRAM = String.raw`
const fs = require('fs');
const a = JSON.parse(fs.readFileSync(0, 'utf8'));
const lines = [];
setTimeout(() => {
for (let i = 0; i < a.count; i++) {
  const p = a.dir + '/' + a.prefix + i;
  try {
    const fd = fs.openSync(p, 'w');
    try { fs.writeSync(fd, a.prefix + i + ':' + a.tag + '\n'); } finally { fs.closeSync(fd); }
    lines.push('ok ' + i);
  } catch (e) { lines.push('err ' + i + ' ' + (e.code || e)); }
}
process.stdout.write(lines.join('\n'));
}, Math.max(0, (a.startAt || 0) - Date.now()));
`;

export interface WriteManySpec {
  dir: string;
  prefix: string;
  count: number;
  tag: string; // goes into every file: <prefix><i>:<tag>\n
  startAt?: number;
}

export interface WriteManyResult {
  acked: number[]; // indexes whose close() returned success
  failed: { index: number; code: string }[];
}

/** The content WRITE_MANY_PROGRAM gives file number i. */
export function writeManyContent(spec: WriteManySpec, i: number): string {
  return `${spec.prefix}${i}:${spec.tag}\n`;
}

export async function writeMany(node: string, spec: WriteManySpec, timeoutMs = 300_000): Promise<WriteManyResult> {
  const r = await execIn(node, ['node', '-e', WRITE_MANY_PROGRAM], { input: JSON.stringify(spec), timeoutMs });
  if (r.code !== 0) throw new Error(`write storm on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  const res: WriteManyResult = { acked: [], failed: [] };
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [kind, idx, code] = line.split(' ');
    if (kind === 'ok') res.acked.push(Number(idx));
    else res.failed.push({ index: Number(idx), code: code ?? '?' });
  }
  return res;
}

// mkdir of each name in turn, name i at the wall-clock time startAt + i * intervalMs (the containers
// share the host's clock), so racers on several nodes send each round's mkdir at the same moment;
// prints "ok"/"<code>" per name in order.
const MKDIR_RACE_PROGRAM = String.raw`
const fs = require('fs');
const a = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = [];
function round(i) {
  if (i === a.paths.length) { process.stdout.write(JSON.stringify(out)); return; }
  setTimeout(() => {
    try { fs.mkdirSync(a.paths[i]); out.push('ok'); } catch (e) { out.push(e.code || String(e)); }
    round(i + 1);
  }, Math.max(0, a.startAt + i * a.intervalMs - Date.now()));
}
round(0);
`;

export async function mkdirRace(
  node: string,
  paths: readonly string[],
  startAt: number,
  intervalMs: number,
  timeoutMs = 120_000,
): Promise<string[]> {
  const input = JSON.stringify({ paths, startAt, intervalMs });
  const r = await execIn(node, ['node', '-e', MKDIR_RACE_PROGRAM], { input, timeoutMs });
  if (r.code !== 0) throw new Error(`mkdir race on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as string[];
}

/** Assert that every op succeeded; a failure names the op, the path and the errno. */
export function expectAllOk(results: readonly FsResult[], allow: readonly string[] = []): void {
  for (const r of results) {
    const outcome = r.ok ? 'ok' : allow.includes(r.code ?? '') ? 'ok' : r.code;
    expect(outcome, `${r.op} ${r.path}`).toBe('ok');
  }
}
