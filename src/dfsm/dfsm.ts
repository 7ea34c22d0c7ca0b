/**
 * The generic distributed state machine (spec §4): membership changes, the sync protocol with
 * epochs and state collection, the two message queues, delivery of NORMAL messages to the
 * application, the synchronous-send bookkeeping and the periodic verify.
 *
 * Pure: every input is a method call (with the time as a parameter) and every output is an
 * effect returned as data (messages to multicast, leave, mode changes, results for waiters,
 * log lines, application effects). The shell (runner.ts) carries the effects out.
 */
import type { GroupMember } from './transport';
import type { AppContext, DeliverOutcome, DfsmApp, LogLevel, MemberState } from './app';
import {
  DfsmMessageType,
  NormalMessage,
  StateMessage,
  StateMessageType,
  SyncEpoch,
  decodeBaseHeader,
  decodeDfsmMessage,
  decodeVerify,
  decodeVerifyRequest,
  encodeNormalMessage,
  encodeStateMessage,
  encodeVerify,
  encodeVerifyRequest,
  epochEquals,
} from './header';
import { DfsmMode, DfsmModeValue, isErrorMode, isRestartable, modeEntryLog, modeName } from './modes';

/** The outcome of a synchronous send, as the waiting caller sees it. */
export type SendResult =
  | { processed: true; result: number }
  /** Never applied (left the group, disconnected, released): the caller answers EBUSY/EACCES. */
  | { processed: false; reason: string };

export type DfsmEffect<E = never> =
  | { kind: 'mcast'; data: Buffer }
  /** Leave the group; re-join later only when `restartable`. */
  | { kind: 'leave'; restartable: boolean; reason: string }
  | { kind: 'mode'; from: DfsmModeValue; to: DfsmModeValue }
  /** The result for the waiter of our own NORMAL message `count`. */
  | { kind: 'result'; count: number; result: SendResult }
  | { kind: 'log'; level: LogLevel; message: string }
  | { kind: 'app'; effect: E };

export type SendOutcome<E> =
  | { ok: true; count: number; effects: DfsmEffect<E>[] }
  | { ok: false; reason: string; effects: DfsmEffect<E>[] };

export interface DfsmOptions {
  /** Name for the debug line of mode changes (e.g. the CPG group name); other lines carry only the log domain, as the reference's. */
  name?: string;
  /** Seconds between verify requests (spec §4.7; dcdb 3600). Omit to never verify. */
  verifyInterval?: number;
}

interface QueuedMessage {
  from: GroupMember;
  message: NormalMessage;
  /** The bytes as received, for the re-multicast of our own messages on a join. */
  raw: Buffer;
}

interface SyncNode {
  member: GroupMember;
  state: Buffer | null;
  synced: boolean;
}

const ZERO_EPOCH: SyncEpoch = { epoch: 0, time: 0, nodeid: 0, pid: 0 };

function sameMember(a: GroupMember, b: GroupMember): boolean {
  return a.nodeid === b.nodeid && a.pid === b.pid;
}

function compareMembers(a: GroupMember, b: GroupMember): number {
  return a.nodeid - b.nodeid || a.pid - b.pid;
}

/** An epoch as the reference's logs print it: nodeid/pid/counter in hex, so mixed clusters' logs read alike. */
function fmtEpoch(e: SyncEpoch): string {
  return `${e.nodeid}/${e.pid}/${(e.epoch >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export class Dfsm<E = never> {
  private modeValue: DfsmModeValue = DfsmMode.START;
  private selfMember: GroupMember | null = null;
  private nodes: SyncNode[] = [];
  private lowest = 0;
  private localEpochCounter = 0;
  private syncEpoch: SyncEpoch = ZERO_EPOCH;
  private msgCount = 0;
  /** Queue 1: sorted by count only, stable for equal counts. */
  private queue: QueuedMessage[] = [];
  /** Queue 2: FIFO of messages from synced members while we are in UPDATE. */
  private syncQueue: QueuedMessage[] = [];
  /** Counts of our own NORMAL messages whose sender waits for the result, ascending. */
  private waiters: number[] = [];
  private csumCounter = 0n;
  private csumId = 0n;
  private csumEpoch: SyncEpoch = ZERO_EPOCH;
  private csum: Buffer | null = null;
  private nextVerifyAt: number | undefined;
  private out: DfsmEffect<E>[] = [];
  private readonly name: string;

  constructor(
    private readonly app: DfsmApp<E>,
    private readonly options: DfsmOptions = {},
  ) {
    this.name = options.name ?? 'dfsm';
  }

  // ---- read-only views (for the shell, status and tests) ----

  get mode(): DfsmModeValue {
    return this.modeValue;
  }
  get self(): GroupMember | null {
    return this.selfMember;
  }
  get members(): GroupMember[] {
    return this.nodes.map((n) => ({ ...n.member }));
  }
  get lowestNodeid(): number {
    return this.lowest;
  }
  get epoch(): SyncEpoch {
    return { ...this.syncEpoch };
  }
  get queuedCount(): number {
    return this.queue.length + this.syncQueue.length;
  }
  get pendingWaiters(): number[] {
    return [...this.waiters];
  }
  /** Synced = normal operation: messages are applied as they arrive. */
  get isSynced(): boolean {
    return this.modeValue === DfsmMode.SYNCED;
  }

  // ---- inputs ----

  /** The transport put us in the group as `self`. */
  joined(self: GroupMember): DfsmEffect<E>[] {
    this.begin();
    this.selfMember = { nodeid: self.nodeid, pid: self.pid };
    this.log('debug', `joined as ${self.nodeid}/${self.pid}`);
    return this.end();
  }

  /** A view change (spec §4.3). Identical on every member. */
  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[], now: number): DfsmEffect<E>[] {
    this.begin();
    this.handleConfchg(members, left, joined, now);
    return this.end();
  }

  /** A message multicast by `from`, in agreed order (our own come back too). */
  deliver(from: GroupMember, data: Buffer, now: number): DfsmEffect<E>[] {
    this.begin();
    this.handleDeliver(from, data, now);
    return this.end();
  }

  /**
   * Multicast a NORMAL message (spec §4.6). With `wait`, the result of applying it here is
   * reported as a 'result' effect carrying `count` when it is delivered back to us.
   */
  send(subtype: number, payload: Buffer, now: number, wait = true): SendOutcome<E> {
    this.begin();
    if (this.selfMember === null) return { ok: false, reason: 'not in the group', effects: this.end() };
    if (isErrorMode(this.modeValue)) {
      return { ok: false, reason: `mode ${modeName(this.modeValue)}`, effects: this.end() };
    }
    const count = this.sendNormal(subtype, payload, now);
    if (wait) this.waiters.push(count);
    return { ok: true, count, effects: this.end() };
  }

  /** The periodic timer (spec §4.7): call it as often as you like with the current time. */
  tick(now: number): DfsmEffect<E>[] {
    this.begin();
    const interval = this.options.verifyInterval;
    if (interval !== undefined) {
      if (this.nextVerifyAt === undefined) this.nextVerifyAt = now + interval;
      else if (now >= this.nextVerifyAt) {
        this.nextVerifyAt = now + interval;
        this.startVerify(now);
      }
    }
    return this.end();
  }

  /** Start a verify round now (only the lowest-nodeid member, only when SYNCED). */
  verifyRequest(now: number): DfsmEffect<E>[] {
    this.begin();
    this.startVerify(now);
    return this.end();
  }

  /**
   * We are out of the group (transport lost, or our leave completed). Releases every waiter as
   * not processed and empties the queues; a restartable DFSM starts over in START.
   */
  disconnected(reason: string): DfsmEffect<E>[] {
    this.begin();
    this.releaseAll(`disconnected: ${reason}`);
    this.queue = [];
    this.syncQueue = [];
    this.resetSync();
    this.nodes = [];
    this.lowest = 0;
    this.selfMember = null;
    if (isRestartable(this.modeValue) && this.modeValue !== DfsmMode.START) {
      const from = this.modeValue;
      this.modeValue = DfsmMode.START;
      this.out.push({ kind: 'mode', from, to: DfsmMode.START });
    }
    return this.end();
  }

  /** The shell could not multicast a state message: leave (restartable) and start over. */
  sendFailed(reason: string, now: number): DfsmEffect<E>[] {
    this.begin();
    if (!isErrorMode(this.modeValue)) this.leave(reason, now);
    return this.end();
  }

  /** Release every waiter as not processed (e.g. quorum lost while a write is in flight). */
  releaseWaiters(reason: string): DfsmEffect<E>[] {
    this.begin();
    this.releaseAll(reason);
    return this.end();
  }

  /** Forget the waiter of `count` (its multicast failed); reported as not processed. */
  cancelWaiter(count: number, reason: string): DfsmEffect<E>[] {
    this.begin();
    const i = this.waiters.indexOf(count);
    if (i >= 0) {
      this.waiters.splice(i, 1);
      this.out.push({ kind: 'result', count, result: { processed: false, reason } });
    }
    return this.end();
  }

  // ---- effect plumbing ----

  private begin(): void {
    this.out = [];
  }

  private end(): DfsmEffect<E>[] {
    const effects = this.out;
    this.out = [];
    return effects;
  }

  private log(level: LogLevel, message: string): void {
    this.out.push({ kind: 'log', level, message });
  }

  private context(now: number): AppContext<E> {
    const self = this.selfMember ?? { nodeid: 0, pid: 0 };
    return {
      now,
      self,
      members: this.members,
      lowestNodeid: this.lowest,
      log: (level, message) => this.log(level, message),
      emit: (effect) => this.out.push({ kind: 'app', effect }),
      sendAsync: (subtype, payload) => {
        if (this.selfMember !== null && !isErrorMode(this.modeValue)) this.sendNormal(subtype, payload, now);
      },
      sendUpdate: (payload) => this.sendState(DfsmMessageType.UPDATE, now, payload),
      sendUpdateComplete: () => this.sendState(DfsmMessageType.UPDATE_COMPLETE, now),
      setErrorMode: (reason) => {
        this.log('critical', reason);
        this.setMode(DfsmMode.ERROR, reason, now);
      },
    };
  }

  private sendNormal(subtype: number, payload: Buffer, now: number): number {
    const count = ++this.msgCount;
    const data = encodeNormalMessage(
      { subtype, protocolVersion: this.app.protocolVersion, time: now, count },
      payload,
    );
    this.out.push({ kind: 'mcast', data });
    return count;
  }

  private sendState(type: StateMessageType, now: number, payload?: Buffer): void {
    const data = encodeStateMessage(
      type,
      { protocolVersion: this.app.protocolVersion, time: now, epoch: this.syncEpoch },
      payload,
    );
    this.out.push({ kind: 'mcast', data });
  }

  /** Mode change with the reference's rule: once in an error mode, only escalate. */
  private setMode(mode: DfsmModeValue, reason: string, now: number): void {
    const from = this.modeValue;
    if (from === mode) return;
    if (isErrorMode(from) && mode <= from) return;
    this.modeValue = mode;
    this.out.push({ kind: 'mode', from, to: mode });
    this.log('debug', `${this.name}: mode ${modeName(from)} -> ${modeName(mode)}${reason ? ` (${reason})` : ''}`);
    const entry = modeEntryLog(mode);
    if (entry !== undefined) this.log(entry.level, entry.message);
    if (isErrorMode(mode)) {
      this.out.push({ kind: 'leave', restartable: isRestartable(mode), reason });
      this.releaseAll(`left the group: ${reason}`);
      this.queue = [];
      this.syncQueue = [];
      this.resetSync();
    } else if (mode === DfsmMode.SYNCED) {
      this.app.synced?.(this.context(now));
    }
  }

  private leave(reason: string, now: number): void {
    this.log('critical', reason);
    this.setMode(DfsmMode.LEAVE, reason, now);
  }

  private releaseAll(reason: string): void {
    for (const count of this.waiters) {
      this.out.push({ kind: 'result', count, result: { processed: false, reason } });
    }
    this.waiters = [];
  }

  private resetSync(): void {
    for (const n of this.nodes) n.state = null;
    this.app.cleanupSync?.();
  }

  private findNode(member: GroupMember): SyncNode | undefined {
    return this.nodes.find((n) => sameMember(n.member, member));
  }

  private isSelf(member: GroupMember): boolean {
    return this.selfMember !== null && sameMember(member, this.selfMember);
  }

  // ---- membership (spec §4.3) ----

  private handleConfchg(members: GroupMember[], _left: GroupMember[], joined: GroupMember[], now: number): void {
    if (isErrorMode(this.modeValue)) return;
    const self = this.selfMember;
    if (self === null) {
      this.log('warning', 'membership change before join - ignored');
      return;
    }

    this.localEpochCounter++;
    this.syncEpoch = { epoch: this.localEpochCounter, time: now >>> 0, nodeid: self.nodeid, pid: self.pid };
    // Invalidate the saved verify checksum and drop queue 2.
    this.csumId = this.csumCounter;
    this.csumEpoch = ZERO_EPOCH;
    this.csum = null;
    this.syncQueue = [];
    this.resetSync();

    const sorted = [...members].map((m) => ({ nodeid: m.nodeid, pid: m.pid })).sort(compareMembers);
    this.nodes = sorted.map((member) => ({ member, state: null, synced: false }));
    this.lowest = sorted.length > 0 ? Math.min(...sorted.map((m) => m.nodeid)) : 0;
    this.log('notice', `members: ${sorted.map((m) => `${m.nodeid}/${m.pid}`).join(', ')}`);

    if (!sorted.some((m) => sameMember(m, self))) {
      if (this.modeValue === DfsmMode.START) {
        this.log('debug', 'ignore membership change without us while starting');
        return;
      }
      this.leave(`we (${self.nodeid}/${self.pid}) left the process group`, now);
      return;
    }

    if (sorted.length > 1) {
      if (joined.length > 0 && this.queue.length > 0) {
        // Everybody resends their own queued messages (same bytes, same counts).
        for (const q of this.queue) {
          if (this.isSelf(q.from)) this.out.push({ kind: 'mcast', data: q.raw });
        }
        this.queue = [];
      }
      this.setMode(DfsmMode.START_SYNC, 'membership change', now);
      if (this.lowest === self.nodeid) {
        this.log('debug', `send sync request (epoch ${fmtEpoch(this.syncEpoch)})`);
        this.sendState(DfsmMessageType.SYNC_START, now);
      }
    } else {
      this.setMode(DfsmMode.SYNCED, 'alone in the group', now);
      this.nodes[0]!.synced = true;
      this.deliverQueue(now);
    }

    if (!isErrorMode(this.modeValue)) this.app.confchg?.(this.members, this.context(now));
  }

  // ---- delivery ----

  private handleDeliver(from: GroupMember, data: Buffer, now: number): void {
    if (isErrorMode(this.modeValue)) return;
    if (this.selfMember === null) {
      this.log('warning', `message from ${from.nodeid}/${from.pid} before join - ignored`);
      return;
    }
    const base = decodeBaseHeader(data);
    if (!base.ok) {
      this.leave(`received short message (${data.length} bytes) from ${from.nodeid}/${from.pid}`, now);
      return;
    }
    if (base.value.protocolVersion > this.app.protocolVersion) {
      this.log('critical', `received message with protocol version ${base.value.protocolVersion} - please update this node`);
      this.setMode(DfsmMode.VERSION_ERROR, `protocol version ${base.value.protocolVersion}`, now);
      return;
    }
    if (base.value.protocolVersion < this.app.protocolVersion) {
      this.log('notice', `ignore message with wrong protocol version ${base.value.protocolVersion}`);
      return;
    }
    const decoded = decodeDfsmMessage(data);
    if (!decoded.ok) {
      this.leave(`bad message (type ${base.value.type}) from ${from.nodeid}/${from.pid}: ${decoded.error}`, now);
      return;
    }
    const msg = decoded.value;
    if (msg.type === DfsmMessageType.NORMAL) {
      const queued: QueuedMessage = { from: { nodeid: from.nodeid, pid: from.pid }, message: msg, raw: data };
      // A member still being synced applies its own messages only after its commit; a synced node
      // holds them in queue 1 until UPDATE_COMPLETE too, so both apply them at the same point.
      if (this.modeValue === DfsmMode.SYNCED && this.findNode(from)?.synced !== false) this.deliverMessage(queued, now);
      else this.enqueue(queued);
      return;
    }
    this.handleStateMessage(from, msg, now);
  }

  private enqueue(q: QueuedMessage): void {
    if (this.modeValue === DfsmMode.UPDATE && this.findNode(q.from)?.synced) {
      this.syncQueue.push(q);
      return;
    }
    // Sorted by count only; after existing equal counts (stable).
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.message.count > q.message.count) i--;
    this.queue.splice(i, 0, q);
  }

  /** Hand one NORMAL message to the application and report our own result. */
  private deliverMessage(q: QueuedMessage, now: number): void {
    const { message } = q;
    let outcome: DeliverOutcome;
    outcome = this.app.deliver(q.from, message.subtype, message.payload, message.time, this.context(now));
    if (this.isSelf(q.from)) this.recordLocalResult(message.count, outcome);
    if (outcome.kind === 'leave') this.leave(outcome.reason, now);
  }

  private recordLocalResult(count: number, outcome: DeliverOutcome): void {
    // Like the reference's "msgcount_rcvd >= count": earlier waiters can no longer be answered.
    while (this.waiters.length > 0 && this.waiters[0]! <= count) {
      const waiting = this.waiters.shift()!;
      const result: SendResult =
        waiting !== count
          ? { processed: false, reason: 'message lost' }
          : outcome.kind === 'processed'
            ? { processed: true, result: outcome.result }
            : { processed: false, reason: outcome.kind === 'leave' ? outcome.reason : 'not processed' };
      this.out.push({ kind: 'result', count: waiting, result });
    }
  }

  /** Deliver queue 1 (SYNCED: synced members' messages; UPDATE: move them to queue 2). */
  private deliverQueue(now: number): void {
    const keep: QueuedMessage[] = [];
    const pending = this.queue;
    this.queue = [];
    for (const q of pending) {
      if (isErrorMode(this.modeValue)) return;
      const node = this.findNode(q.from);
      if (node === undefined) {
        this.log('notice', `remove message from non-member ${q.from.nodeid}/${q.from.pid}`);
        continue;
      }
      if (this.modeValue === DfsmMode.SYNCED && node.synced) this.deliverMessage(q, now);
      else if (this.modeValue === DfsmMode.UPDATE && node.synced) this.syncQueue.push(q);
      else keep.push(q);
    }
    // deliverMessage never enqueues, so nothing was added to this.queue meanwhile.
    this.queue = keep;
  }

  private deliverSyncQueue(now: number): void {
    const pending = this.syncQueue;
    this.syncQueue = [];
    for (const q of pending) {
      if (isErrorMode(this.modeValue)) return;
      this.deliverMessage(q, now);
    }
  }

  // ---- sync protocol (spec §4.4) and verify (§4.7) ----

  private handleStateMessage(from: GroupMember, msg: StateMessage, now: number): void {
    const who = `${from.nodeid}/${from.pid}`;
    if (msg.type !== DfsmMessageType.SYNC_START && !epochEquals(msg.epoch, this.syncEpoch)) {
      this.log('debug', `ignore message (type ${msg.type}) with wrong epoch ${fmtEpoch(msg.epoch)}`);
      return;
    }
    const mode = this.modeValue;

    if (mode === DfsmMode.SYNCED) {
      switch (msg.type) {
        case DfsmMessageType.UPDATE_COMPLETE:
          for (const n of this.nodes) n.synced = true;
          this.deliverQueue(now);
          return;
        case DfsmMessageType.VERIFY_REQUEST:
          this.handleVerifyRequest(from, msg, now);
          return;
        case DfsmMessageType.VERIFY:
          this.handleVerify(from, msg, now);
          return;
        default:
          this.log('debug', `ignore state sync message ${msg.type}`);
          return;
      }
    }

    if (mode === DfsmMode.START_SYNC) {
      if (msg.type === DfsmMessageType.SYNC_START) {
        if (from.nodeid !== this.lowest) this.log('critical', `ignore sync request from wrong member ${who}`);
        this.log('notice', `received sync request (epoch ${fmtEpoch(msg.epoch)})`);
        this.syncEpoch = { ...msg.epoch };
        this.resetSync();
        const state = this.app.getState(this.context(now));
        if (state === null) {
          this.leave('unable to get local state', now);
          return;
        }
        this.sendState(DfsmMessageType.STATE, now, state);
        return;
      }
      if (msg.type === DfsmMessageType.STATE) {
        this.handleState(from, msg, now);
        return;
      }
    } else if (mode === DfsmMode.UPDATE) {
      if (msg.type === DfsmMessageType.UPDATE) {
        if (!this.app.processUpdate(from, msg.payload, this.context(now))) {
          this.leave(`unable to process update from ${who}`, now);
        }
        return;
      }
      if (msg.type === DfsmMessageType.UPDATE_COMPLETE) {
        if (!this.app.commit(this.context(now))) {
          this.leave('unable to commit the received updates', now);
          return;
        }
        for (const n of this.nodes) n.synced = true;
        this.setMode(DfsmMode.SYNCED, 'update complete', now);
        this.deliverSyncQueue(now);
        this.deliverQueue(now);
        this.resetSync();
        return;
      }
    } else {
      this.leave(`state message (type ${msg.type}) in mode ${modeName(mode)}`, now);
      return;
    }

    if (msg.type === DfsmMessageType.VERIFY_REQUEST || msg.type === DfsmMessageType.VERIFY) {
      this.log('debug', `ignore verify message ${msg.type} while not synced`);
      return;
    }
    this.leave(`received unexpected state message type ${msg.type} in mode ${modeName(mode)} from ${who}`, now);
  }

  private handleState(from: GroupMember, msg: StateMessage, now: number): void {
    const who = `${from.nodeid}/${from.pid}`;
    const node = this.findNode(from);
    if (node === undefined) {
      this.leave(`received state for non-member ${who}`, now);
      return;
    }
    if (node.state !== null) {
      this.leave(`received duplicate state for member ${who}`, now);
      return;
    }
    node.state = Buffer.from(msg.payload);
    if (this.nodes.some((n) => n.state === null)) return;

    this.log('notice', 'received all states');
    const states: MemberState[] = this.nodes.map((n) => ({ member: { ...n.member }, state: n.state! }));
    const synced = this.app.processStateUpdate(states, this.context(now));
    if (synced === null) {
      this.leave('unable to process the state update', now);
      return;
    }
    if (isErrorMode(this.modeValue)) return;
    for (const n of this.nodes) n.synced = synced.some((m) => sameMember(m, n.member));
    const self = this.findNode(this.selfMember!);
    if (self?.synced) {
      this.setMode(DfsmMode.SYNCED, 'all states received, we are synced', now);
      this.resetSync();
    } else {
      this.setMode(DfsmMode.UPDATE, 'waiting for updates', now);
    }
    this.deliverQueue(now);
  }

  private startVerify(now: number): void {
    if (this.selfMember === null || this.selfMember.nodeid !== this.lowest) return;
    if (this.modeValue !== DfsmMode.SYNCED || this.app.checksum === undefined) return;
    if (this.csumCounter !== this.csumId) {
      this.log('notice', `delay verify request ${(this.csumCounter + 1n).toString(16).toUpperCase().padStart(16, '0')}`);
      return;
    }
    this.csumCounter++;
    this.sendState(DfsmMessageType.VERIFY_REQUEST, now, encodeVerifyRequest(this.csumCounter));
  }

  private handleVerifyRequest(from: GroupMember, msg: StateMessage, now: number): void {
    const decoded = decodeVerifyRequest(msg.payload);
    if (!decoded.ok) {
      this.leave(`verify request from ${from.nodeid}/${from.pid}: ${decoded.error}`, now);
      return;
    }
    if (this.app.checksum === undefined) return;
    const csum = this.app.checksum(this.context(now));
    if (csum === null) {
      this.leave('unable to compute data checksum', now);
      return;
    }
    this.csum = Buffer.from(csum);
    this.csumEpoch = { ...msg.epoch };
    this.csumId = decoded.value;
    if (this.isSelf(from)) this.sendState(DfsmMessageType.VERIFY, now, encodeVerify(this.csumId, this.csum));
  }

  private handleVerify(from: GroupMember, msg: StateMessage, now: number): void {
    if (this.app.checksum === undefined) return;
    const decoded = decodeVerify(msg.payload);
    if (!decoded.ok) {
      this.leave(`verify message from ${from.nodeid}/${from.pid}: ${decoded.error}`, now);
      return;
    }
    const { csumId, csum } = decoded.value;
    if (this.csum === null || csumId !== this.csumId || !epochEquals(msg.epoch, this.csumEpoch)) {
      this.log('notice', 'skip verification - no checksum saved');
      return;
    }
    if (!csum.equals(this.csum)) {
      this.leave(`wrong checksum ${csum.subarray(0, 8).toString('hex')} != ${this.csum.subarray(0, 8).toString('hex')} - restarting`, now);
      return;
    }
    this.log('notice', 'data verification successful');
  }
}
