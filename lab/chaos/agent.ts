// The workload client that runs inside a node: one long-lived Node process per client (started with
// `node -e`), doing PVE-like operations on /etc/pve with synchronous fs calls and streaming one JSON
// line when an operation begins and one when it ends, so an operation cut short by a dying client is
// still in the history (as unknown). Times are CLOCK_MONOTONIC in ms, the clock the host shares.
import type { OpKind } from './history';

export interface AgentConfig {
  node: string;
  client: string;
  nodes: string[]; // every node, for migrations
  deadline: number; // CLOCK_MONOTONIC ms at which the client stops
  thinkMs: number; // pause between operations
  vmids: number[]; // the pool every node draws VMIDs from, so creates collide
  locks: number; // priv/lock/chaos-<i>, i < locks
  sharedFiles: number; // chaos/shared/k<i>
  ownFiles: number; // chaos/<node>/<client>-<i>
  seq0: number; // first sequence number (a restarted client continues after the last one)
}

/** A line the agent prints: `b` when an operation begins, `e` when it ended. */
export type AgentLine =
  | { k: 'b'; q: number; op: OpKind; p: string; to?: string; vmid?: number; v?: string; s: number }
  | { k: 'e'; q: number; e: number; ok: boolean; err?: string; r?: string | null }
  | { k: 'x'; msg: string }; // the agent stopped (deadline) or hit a bug

export function parseAgentLine(line: string): AgentLine | null {
  try {
    const v = JSON.parse(line) as AgentLine;
    return typeof v === 'object' && v !== null && 'k' in v ? v : null;
  } catch {
    return null;
  }
}

// Plain JavaScript: the image has Node but nothing of this project's dev code.
export const AGENT_PROGRAM = String.raw`
'use strict';
const fs = require('fs');
const a = JSON.parse(fs.readFileSync(0, 'utf8'));
const P = '/etc/pve/';
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(sleeper, 0, 0, ms);
const out = (o) => { try { fs.writeSync(1, JSON.stringify(o) + '\n'); } catch (e) { process.exit(0); } };
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
let q = a.seq0;
let held = null; // the lock this client holds (its path), if any
const vmPath = (n, v) => 'nodes/' + n + '/qemu-server/' + v + '.conf';

function run(op, p, extra, fn) {
  const b = Object.assign({ k: 'b', q: ++q, op: op, p: p, s: now() }, extra);
  out(b);
  const e = { k: 'e', q: b.q, ok: true };
  try { const r = fn(); if (r !== undefined) e.r = r; } catch (err) { e.ok = false; e.err = err.code || String(err.message || err); }
  e.e = now();
  out(e);
  return e.ok;
}

function atomicWrite(p) {
  const v = a.node + '/' + a.client + '/' + (q + 1) + '\n';
  run('write', p, { v: v }, () => {
    const tmp = P + p + '.tmp.' + a.client;
    const fd = fs.openSync(tmp, 'w');
    try { fs.writeSync(fd, v); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, P + p);
  });
}

function readFile(p) {
  run('read', p, {}, () => {
    try { return fs.readFileSync(P + p, 'utf8'); } catch (e) { if (e.code === 'ENOENT') return null; throw e; }
  });
}

function myVms() {
  try {
    return fs.readdirSync(P + 'nodes/' + a.node + '/qemu-server').map((f) => /^(\d+)\.conf$/.exec(f)).filter(Boolean).map((m) => Number(m[1])).filter((v) => a.vmids.includes(v));
  } catch (e) { return []; }
}

// Like PVE's cfs_lock: one rmdir at the end; only a refusal for want of quorum (EACCES) is retried
// later; a lock that is gone (ENOENT) is not ours any more.
function release() {
  let code = null;
  run('unlock', held, {}, () => { try { fs.rmdirSync(P + held); } catch (e) { code = e.code; throw e; } });
  if (code !== 'EACCES') held = null;
}

function lockStep() {
  if (held) {
    if (Math.random() < 0.5) run('renew', held, {}, () => { const t = Math.floor(Date.now() / 1000); fs.utimesSync(P + held, 0, t); });
    else release();
    return;
  }
  const l = 'priv/lock/chaos-' + Math.floor(Math.random() * a.locks);
  if (Math.random() < 0.15) { run('unlock-request', l, {}, () => fs.utimesSync(P + l, 0, 0)); return; }
  if (run('lock', l, {}, () => fs.mkdirSync(P + l))) held = l;
}

const steps = [
  [20, () => atomicWrite('chaos/shared/k' + Math.floor(Math.random() * a.sharedFiles))],
  [20, () => atomicWrite('chaos/' + a.node + '/' + a.client + '-' + Math.floor(Math.random() * a.ownFiles))],
  [15, () => readFile('chaos/' + a.node + '/' + a.client + '-' + Math.floor(Math.random() * a.ownFiles))],
  [5, () => readFile('chaos/shared/k' + Math.floor(Math.random() * a.sharedFiles))],
  [10, () => { const v = pick(a.vmids); run('create-vm', vmPath(a.node, v), { vmid: v }, () => { fs.closeSync(fs.openSync(P + vmPath(a.node, v), 'wx')); }); }],
  [8, () => {
    const mine = myVms(); if (!mine.length) return;
    const v = pick(mine); const to = pick(a.nodes.filter((n) => n !== a.node));
    run('migrate-vm', vmPath(a.node, v), { to: vmPath(to, v), vmid: v }, () => fs.renameSync(P + vmPath(a.node, v), P + vmPath(to, v)));
  }],
  [5, () => { const mine = myVms(); if (!mine.length) return; const v = pick(mine); run('delete-vm', vmPath(a.node, v), { vmid: v }, () => fs.unlinkSync(P + vmPath(a.node, v))); }],
  [12, lockStep],
];
const total = steps.reduce((s, x) => s + x[0], 0);
// Only ever work on the pmxcfs mount: once it is gone (daemon stopped, node shutting down) the
// client ends and the runner starts a new one when the mount is back, instead of writing into the
// bare directory underneath.
const devOf = (p) => { try { return fs.statSync(p).dev; } catch (e) { return -1; } };
const mountDev = devOf('/etc/pve');
if (mountDev === -1 || mountDev === devOf('/etc')) { out({ k: 'x', msg: 'no mount at /etc/pve' }); process.exit(3); }
while (now() < a.deadline) {
  if (devOf('/etc/pve') !== mountDev) { out({ k: 'x', msg: 'mount gone' }); process.exit(4); }
  let r = Math.random() * total;
  for (const [w, f] of steps) { r -= w; if (r < 0) { f(); break; } }
  if (a.thinkMs > 0) sleep(a.thinkMs * (0.5 + Math.random()));
}
for (let i = 0; i < 20 && held; i++) { release(); if (held) sleep(500); }
out({ k: 'x', msg: 'deadline' });
`;
