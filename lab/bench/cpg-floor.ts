/**
 * The floor corosync sets for replicated operations (`node dist/lab/bench/cpg-floor.js K SECONDS`):
 * a client with no file system at all joins a CPG group and, one at a time, multicasts K messages of
 * 1 KiB and waits for its own delivery of each, as a daemon does for the K messages of one file
 * operation (atomic write: CREATE, WRITE, RENAME = 3; lock pair: MKDIR, RMDIR = 2). Prints one JSON
 * line: operations per second, the latency p50/p99 in ms, and this process's CPU per message (µs): what
 * the multicast and delivery through koffi/libcpg cost a Node process by themselves. Run it inside a node of the namespace
 * cluster (`--ns-floor` of the bench does) so it talks to that node's corosync.
 */
import { CpgGroup } from '../../src/corosync/cpg-group';
import type { GroupMember } from '../../src/dfsm/transport';

const perOp = Math.max(1, Number(process.argv[2] ?? '3'));
const seconds = Math.max(0.5, Number(process.argv[3] ?? '3'));
const payload = Buffer.alloc(1024, 0x61);

let joined: () => void = () => undefined;
let delivered: () => void = () => undefined;
let self: GroupMember | null = null;
const group = new CpgGroup('pmxcfs-ts-floor', {
  joined(m) {
    self = m;
    joined();
  },
  confchg() {},
  deliver(from) {
    if (self !== null && from.nodeid === self.nodeid && from.pid === self.pid) delivered();
  },
  disconnected(reason) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: `disconnected: ${reason}` })}\n`);
    process.exit(1);
  },
});

async function oneMessage(): Promise<void> {
  const arrived = new Promise<void>((resolve) => (delivered = resolve));
  const r = await group.mcast(payload);
  if (r !== 0) throw new Error(`cpg_mcast_joined: errno ${-r}`);
  await arrived;
}

async function main(): Promise<void> {
  const isJoined = new Promise<void>((resolve) => (joined = resolve));
  group.start();
  await isJoined;
  for (let i = 0; i < 50; i++) await oneMessage();
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < end) {
    const b = t;
    for (let k = 0; k < perOp; k++) await oneMessage();
    t = process.hrtime.bigint();
    lat.push(Number(t - b) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  group.stop();
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)]!;
  const elapsed = Number(t - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ ok: true, perOp, ops: lat.length, perSecond: lat.length / elapsed, p50Ms: pct(50), p99Ms: pct(99),
    cpuUsPerMessage: (cpu.user + cpu.system) / (lat.length * perOp) })}\n`);
  process.exit(0);
}

main().catch((e: Error) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: e.message })}\n`);
  process.exit(1);
});
