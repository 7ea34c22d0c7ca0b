/**
 * The simulated CPG: one view per network component, each with its own queue of events in agreed
 * order. Virtual synchrony: an event is delivered to every member of the view at once (same
 * order everywhere), a view change reaches every member of the new view at the same point, and
 * messages of a view go only to that view's members. At a view change the scheduler first lets a
 * random prefix of each queue be delivered in the old view; the rest is carried into the new view
 * of its sender (and only that one), like messages that were not yet agreed when the ring broke.
 */
import { DfsmMessageType } from '../../src/dfsm/header';
import type { GroupHandler, GroupMember } from '../../src/dfsm/transport';
import type { Prng } from '../../lab/prng';

/** One process's membership of one simulated CPG group (a node runs one per group: dcdb, kvstore). */
export interface GroupEndpoint {
  readonly member: GroupMember;
  readonly handler: GroupHandler;
  /** nodeid/pid, for traces. */
  readonly key: string;
  /** Wants to be / is in the group (false after a completed leave). */
  inGroup: boolean;
  /** A leave was asked for and its view change is pending. */
  leaving: boolean;
  /** After the last leave: may re-join (LEAVE) or must wait for a restart (ERROR modes). */
  mayRejoin: boolean;
  leftAt: number;
  /** Key of the last NORMAL message this endpoint multicast. */
  lastSentKey: string | undefined;
}

/** What a process needs from the simulated group. */
export interface ProcessNetwork<P extends GroupEndpoint> {
  mcast(proc: P, data: Buffer): number;
  leave(proc: P, rejoin: boolean): void;
}

type QueuedEvent<P> = { kind: 'msg'; from: P; data: Buffer } | { kind: 'leave'; proc: P };

export class View<P extends GroupEndpoint> {
  constructor(
    readonly id: number,
    /** Sorted by (nodeid, pid). */
    readonly members: P[],
    readonly queue: QueuedEvent<P>[],
  ) {}
}

const EBUSY = 16;

function byMember(a: GroupEndpoint, b: GroupEndpoint): number {
  return a.member.nodeid - b.member.nodeid || a.member.pid - b.member.pid;
}

export class SimGroup<P extends GroupEndpoint> implements ProcessNetwork<P> {
  views: View<P>[] = [];
  private readonly viewOf = new Map<P, View<P>>();
  private nextViewId = 1;
  private current: { key: string | undefined; viewId: number } = { key: undefined, viewId: 0 };
  delivered = 0;

  constructor(
    private readonly guard: (what: string, fn: () => void) => void,
    private readonly trace: (line: string) => void,
    private readonly now: () => number,
    /** Prefix of this group's trace lines ('' for dcdb, so old traces keep their form). */
    private readonly tracePrefix = '',
  ) {}

  currentKey(): string | undefined {
    return this.current.key;
  }
  currentViewId(): number {
    return this.current.viewId;
  }

  viewOfProc(proc: P): View<P> | undefined {
    return this.viewOf.get(proc);
  }

  busyViews(): View<P>[] {
    return this.views.filter((v) => v.queue.length > 0);
  }

  // ---- ProcessNetwork ----

  mcast(proc: P, data: Buffer): number {
    const view = this.viewOf.get(proc);
    if (view === undefined || proc.leaving) return -EBUSY;
    if (data.length >= 24 && data.readUInt16LE(0) === DfsmMessageType.NORMAL) {
      proc.lastSentKey = `${proc.key}#${Number(data.readBigUInt64LE(16))}`;
    }
    // Unpooled and starting at offset 0: the recorder reads the header in front of a payload view.
    const copy = Buffer.alloc(data.length);
    data.copy(copy);
    view.queue.push({ kind: 'msg', from: proc, data: copy });
    return 0;
  }

  leave(proc: P, rejoin: boolean): void {
    const view = this.viewOf.get(proc);
    proc.mayRejoin = proc.mayRejoin && rejoin;
    if (view === undefined || proc.leaving) return;
    proc.leaving = true;
    view.queue.push({ kind: 'leave', proc });
  }

  // ---- delivery ----

  /** Deliver the next event of `view`. */
  deliverOne(view: View<P>): void {
    const ev = view.queue.shift();
    if (ev === undefined) return;
    this.delivered++;
    if (ev.kind === 'leave') {
      this.trace(`${this.tracePrefix}leave-done v${view.id} ${ev.proc.key}`);
      this.completeLeave(view, ev.proc);
      return;
    }
    const data = ev.data;
    const key = data.length >= 24 && data.readUInt16LE(0) === DfsmMessageType.NORMAL ? `${ev.from.key}#${Number(data.readBigUInt64LE(16))}` : undefined;
    this.trace(`${this.tracePrefix}d v${view.id} ${ev.from.key} t${data.length >= 2 ? data.readUInt16LE(0) : -1}${key ? ` ${key}` : ''}`);
    this.current = { key, viewId: view.id };
    for (const m of [...view.members]) {
      if (this.viewOf.get(m) !== view) continue;
      this.guard(`deliver to ${m.key}`, () => m.handler.deliver(ev.from.member, data));
    }
    this.current = { key: undefined, viewId: 0 };
  }

  /** Deliver a random prefix of every queue in its current view (before a view change). */
  flushRandomPrefix(prng: Prng): void {
    for (const view of [...this.views]) {
      let k = prng.int(view.queue.length + 1);
      while (k-- > 0 && this.views.includes(view) && view.queue.length > 0) this.deliverOne(view);
    }
    // A completed leave may have replaced a view: deliver nothing more here.
  }

  private completeLeave(view: View<P>, proc: P): void {
    const rest = view.members.filter((m) => m !== proc);
    this.viewOf.delete(proc);
    proc.inGroup = false;
    proc.leaving = false;
    proc.leftAt = this.now();
    const next = new View(this.nextViewId++, rest, view.queue.filter((e) => !(e.kind === 'msg' && e.from === proc)));
    this.replaceViews([view], rest.length > 0 ? [next] : []);
    for (const m of rest) this.viewOf.set(m, next);
    this.current = { key: undefined, viewId: next.id };
    for (const m of rest) {
      if (this.viewOf.get(m) !== next) continue;
      this.guard(`confchg to ${m.key}`, () => m.handler.confchg(rest.map((p) => ({ ...p.member })), [{ ...proc.member }], []));
    }
    this.current = { key: undefined, viewId: 0 };
    this.guard(`disconnected ${proc.key}`, () => proc.handler.disconnected('left the group'));
  }

  private replaceViews(old: View<P>[], fresh: View<P>[]): void {
    this.views = this.views.filter((v) => !old.includes(v)).concat(fresh).sort((a, b) => a.id - b.id);
  }

  /**
   * Make the views equal `groups` (each a set of processes that should form one view). Processes
   * in no group (crashed) drop out; new processes are joined. Members whose view changes get one
   * confchg each, after every new view is in place.
   */
  regroup(groups: P[][]): void {
    const wanted = new Set(groups.flat());
    const changes: { proc: P; view: View<P>; old: View<P> | undefined }[] = [];
    const retired: View<P>[] = [];
    const created: View<P>[] = [];
    const oldViewOf = new Map(this.viewOf);
    // Processes that vanished (crashed): forget them.
    for (const [proc] of oldViewOf) if (!wanted.has(proc)) this.viewOf.delete(proc);

    for (const group of groups) {
      if (group.length === 0) continue;
      const members = [...group].sort(byMember);
      const olds = [...new Set(members.map((m) => oldViewOf.get(m)).filter((v): v is View<P> => v !== undefined))].sort((a, b) => a.id - b.id);
      if (olds.length === 1 && olds[0]!.members.length === members.length && members.every((m) => oldViewOf.get(m) === olds[0])) {
        continue; // unchanged
      }
      const inGroup = new Set(members);
      const queue: QueuedEvent<P>[] = [];
      for (const v of olds) {
        for (const e of v.queue) if (inGroup.has(e.kind === 'msg' ? e.from : e.proc)) queue.push(e);
      }
      const view = new View(this.nextViewId++, members, queue);
      created.push(view);
      for (const m of members) changes.push({ proc: m, view, old: oldViewOf.get(m) });
    }
    for (const v of this.views) {
      if (v.members.some((m) => !wanted.has(m) || changes.some((c) => c.proc === m))) retired.push(v);
    }
    // Views that lost members to a crash but are otherwise unchanged were handled above only if
    // some group differs; a view whose members all vanished is simply retired.
    this.replaceViews(retired, created);
    for (const c of changes) this.viewOf.set(c.proc, c.view);

    for (const view of created) {
      this.trace(`${this.tracePrefix}view v${view.id} [${view.members.map((m) => m.key).join(' ')}] carried ${view.queue.length}`);
      const ids = view.members.map((p) => ({ ...p.member }));
      this.current = { key: undefined, viewId: view.id };
      for (const c of changes) {
        if (c.view !== view) continue;
        const before = c.old?.members ?? [];
        const left = before.filter((m) => !view.members.includes(m)).map((m) => ({ ...m.member }));
        const joined = view.members.filter((m) => !before.includes(m)).map((m) => ({ ...m.member }));
        if (c.old === undefined) this.guard(`joined ${c.proc.key}`, () => c.proc.handler.joined({ ...c.proc.member }));
        if (this.viewOf.get(c.proc) !== view) continue;
        this.guard(`confchg to ${c.proc.key}`, () => c.proc.handler.confchg(ids, left, joined));
      }
      this.current = { key: undefined, viewId: 0 };
    }
  }
}
