/**
 * A tiny in-test cluster: N nodes of Dfsm + DcdbApp + MemDb (in-memory store), each behind a
 * DfsmRunner, wired through a total-order bus with virtual-synchrony-like view changes.
 * Deterministic: the test decides when messages are delivered (step/pump) and what time it is.
 */
import { Dfsm } from '../../../src/dfsm/dfsm';
import { DfsmRunner } from '../../../src/dfsm/runner';
import type { GroupMember, GroupTransport } from '../../../src/dfsm/transport';
import { DcdbApp, type DcdbEffect } from '../../../src/dcdb/app';
import { DcdbClient } from '../../../src/dcdb/client';
import { DCDB_GROUP_NAME } from '../../../src/dcdb/messages';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';

export interface Delivered {
  from: GroupMember;
  data: Buffer;
}

export class TestNode implements GroupTransport {
  readonly member: GroupMember;
  readonly memdb: MemDb;
  readonly app: DcdbApp;
  readonly dfsm: Dfsm<DcdbEffect>;
  readonly runner: DfsmRunner<DcdbEffect>;
  readonly client: DcdbClient;
  readonly logs: string[] = [];
  readonly appEffects: DcdbEffect[] = [];
  readonly leaveCalls: boolean[] = [];
  /** Every mode this node entered, in order. */
  readonly modes: number[] = [];
  quorate = true;
  /** Added to the bus time: this node's clock. */
  skew = 0;
  leaving = false;

  constructor(
    readonly bus: Bus,
    nodeid: number,
    pid = 1000 + nodeid,
    verifyInterval?: number,
  ) {
    this.member = { nodeid, pid };
    this.memdb = MemDb.open(new MemoryTreeStore(), bus.time);
    const quorum = { quorate: () => this.quorate };
    this.app = new DcdbApp(this.memdb, quorum);
    this.dfsm = new Dfsm(this.app, { name: `${DCDB_GROUP_NAME}@${nodeid}`, verifyInterval });
    this.runner = new DfsmRunner(this.dfsm, this, {
      now: () => this.now(),
      onLog: (level, message) => this.logs.push(`${level}: ${message}`),
      onAppEffect: (e) => this.appEffects.push(e),
      onModeChange: (_from, to) => this.modes.push(to),
    });
    this.client = new DcdbClient(this.runner, this.memdb, quorum);
  }

  now(): number {
    return this.bus.time + this.skew;
  }

  // GroupTransport
  mcast(data: Buffer): Promise<number> {
    if (!this.bus.members.includes(this) || this.leaving) return Promise.resolve(-16);
    this.bus.pending.push({ from: this.member, data: Buffer.from(data) });
    return Promise.resolve(0);
  }

  leave(rejoin?: boolean): void {
    this.leaveCalls.push(rejoin !== false);
    this.leaving = true;
  }

  index(): string {
    return this.memdb.encodeIndex().toString('hex');
  }
}

export class Bus {
  time = 1_700_000_000;
  members: TestNode[] = [];
  pending: Delivered[] = [];
  delivered: Delivered[] = [];

  node(nodeid: number, verifyInterval?: number): TestNode {
    return new TestNode(this, nodeid, undefined, verifyInterval);
  }

  private view(): GroupMember[] {
    return this.members.map((n) => n.member);
  }

  /** Deliver one pending message to every member, in order. False when nothing was pending. */
  step(): boolean {
    const msg = this.pending.shift();
    if (msg === undefined) return false;
    this.delivered.push(msg);
    for (const n of [...this.members]) if (!n.leaving) n.runner.deliver(msg.from, msg.data);
    this.processLeaves();
    return true;
  }

  pump(limit = 100_000): void {
    for (let i = 0; i < limit && this.step(); i++);
  }

  /** Pending messages are delivered in the old view first (virtual synchrony). */
  join(...nodes: TestNode[]): void {
    this.pump();
    this.joinNow(...nodes);
  }

  /** A view change that overtakes the pending messages (they are delivered in the new view). */
  joinNow(...nodes: TestNode[]): void {
    for (const n of nodes) {
      n.leaving = false;
      n.runner.joined(n.member);
      this.members.push(n);
    }
    const view = this.view();
    for (const m of this.members) m.runner.confchg(view, [], nodes.map((n) => n.member));
  }

  remove(...nodes: TestNode[]): void {
    this.members = this.members.filter((m) => !nodes.includes(m));
    const view = this.view();
    for (const m of this.members) m.runner.confchg(view, nodes.map((n) => n.member), []);
    for (const n of nodes) {
      n.leaving = false;
      n.runner.disconnected('left the group');
    }
  }

  /** A raw message from `from`, as if it had multicast these bytes. */
  inject(from: GroupMember, data: Buffer): void {
    this.pending.push({ from, data });
  }

  private processLeaves(): void {
    const leaving = this.members.filter((m) => m.leaving);
    if (leaving.length > 0) this.remove(...leaving);
  }
}
