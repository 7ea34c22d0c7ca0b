/**
 * What the replicated-write logic costs by itself (`node dist/lab/bench/apply-path.js [N]`): three
 * members in ONE process — the daemon's own Dfsm, DfsmRunner, DcdbApp, DcdbClient and MemDb, each
 * on its own SQLite config.db in a temp directory — joined by an in-process group that delivers
 * every multicast to all three in order (from setImmediate, as a dispatch would). Member 1 then
 * makes N atomic writes (CREATE, WRITE of 1 KiB, RENAME), one at a time. Prints one JSON line: CPU
 * and wall time per atomic write, and CPU per message applied (3 messages x 3 members per write).
 * No FUSE, no corosync, no koffi: set beside the daemons' CPU per write in `bench --ns` and the CPU
 * per message of `cpg-floor.ts`, it shows how much of a replicated write is the logic and how much
 * the plumbing around it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DcdbApp, type DcdbEffect } from '../../src/dcdb/app';
import { DcdbClient } from '../../src/dcdb/client';
import { Dfsm } from '../../src/dfsm/dfsm';
import { DfsmRunner } from '../../src/dfsm/runner';
import type { GroupMember, GroupTransport } from '../../src/dfsm/transport';
import { MemDb } from '../../src/memdb/memdb';
import { SqliteTreeStore } from '../../src/memdb/sqlite-store';
import type { FsOp } from '../../src/memdb/types';

interface Member {
  member: GroupMember;
  runner: DfsmRunner<DcdbEffect>;
  client: DcdbClient;
  store: SqliteTreeStore;
}

const quorum = { quorate: (): boolean => true };

/** Every member gets every message in one order, after the current turn of the event loop. */
class LoopbackGroup {
  readonly members: Member[] = [];
  private readonly queue: { from: GroupMember; data: Buffer }[] = [];
  private scheduled = false;

  transportFor(member: GroupMember): GroupTransport {
    return {
      mcast: (data) => {
        this.queue.push({ from: member, data: Buffer.from(data) });
        this.schedule();
        return Promise.resolve(0);
      },
      leave: () => {
        throw new Error(`member ${member.nodeid} left the group: the measurement is void`);
      },
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (let m = this.queue.shift(); m !== undefined; m = this.queue.shift()) {
        for (const member of this.members) member.runner.deliver(m.from, m.data);
      }
    });
  }
}

function addMember(group: LoopbackGroup, dir: string, nodeid: number): void {
  const member = { nodeid, pid: 1000 + nodeid };
  const store = SqliteTreeStore.open(path.join(dir, `node${nodeid}.db`));
  const memdb = MemDb.open(store, Math.floor(Date.now() / 1000));
  const dfsm = new Dfsm(new DcdbApp(memdb, quorum), { name: `dcdb@${nodeid}` });
  const runner = new DfsmRunner(dfsm, group.transportFor(member), {
    now: () => Date.now(),
    onModeChange: () => undefined,
    onLog: (level, message) => {
      if (level === 'error' || level === 'critical') process.stderr.write(`node${nodeid}: ${message}\n`);
    },
  });
  group.members.push({ member, runner, client: new DcdbClient(runner, memdb, quorum), store });
}

async function main(): Promise<void> {
  const n = Math.max(100, Number(process.argv[2] ?? '3000'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apply-path-'));
  const group = new LoopbackGroup();
  try {
    for (let id = 1; id <= 3; id++) addMember(group, dir, id);
    const members = group.members.map((m) => m.member);
    for (const m of group.members) m.runner.joined(m.member);
    for (const m of group.members) m.runner.confchg(members, [], members);
    const client = group.members[0]!.client;
    const submit = async (op: FsOp): Promise<void> => {
      // The first writes may meet the DFSM still synchronising: they wait in its queue.
      const rc = await client.submit(op);
      if (rc < 0) throw new Error(`${op.kind} ${op.path}: errno ${-rc}`);
    };
    const data = Buffer.alloc(1024, 0x61);
    const atomicWrites = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        await submit({ kind: 'create', path: 'bench/a.tmp' });
        await submit({ kind: 'write', path: 'bench/a.tmp', offset: 0, data, truncate: false });
        await submit({ kind: 'rename', path: 'bench/a.tmp', to: 'bench/a' });
      }
    };
    await submit({ kind: 'mkdir', path: 'bench' });
    await atomicWrites(500); // warm-up: the JIT, SQLite's caches
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await atomicWrites(n);
    const cpu = process.cpuUsage(cpu0);
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
    const cpuUs = cpu.user + cpu.system;
    process.stdout.write(`${JSON.stringify({
      ok: true, atomicWrites: n, cpuUsPerWrite: cpuUs / n, wallUsPerWrite: wallUs / n, cpuUsPerMessageApplied: cpuUs / n / 9,
    })}\n`);
  } finally {
    for (const m of group.members) m.store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: e.message })}\n`);
  process.exit(1);
});
