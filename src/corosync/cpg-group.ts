/**
 * One CPG group membership over libcpg, driven from the event loop, that survives corosync going
 * away: it re-initialises every 5 s (first try at once) until it is in the group again (spec §4).
 *
 * Life cycle: start() -> [initialise, join] -> joined ... (dispatch fails) -> disconnected, retry;
 * leave() -> cpg_leave, then re-join after >= 5 s; stop() -> leave, finalize, nothing left running.
 * The handler's callbacks run on the event loop, in delivery order, with bytes already copied.
 */
import { Errno } from '../memdb/errno';
import type { GroupHandler, GroupMember, GroupTransport } from '../dfsm/transport';
import { CS_DISPATCH_ALL, CsError, csErrorName } from './cs-error';
import { DispatchPoller } from './dispatch-poller';
import {
  CPG_TYPE_AGREED, CpgAddress, CpgCallbackSlots, cpgDispatch, cpgFdGet, cpgFinalize, cpgInitialize, cpgJoin,
  cpgLeave, cpgLocalGet, cpgMcastJoined, encodeCpgName,
} from './libcpg';
import { Logger, OncePerStateLog, stderrLogger } from './log';
import { nowNs } from '../trace/write-spans';

export interface CpgGroupOptions {
  log?: Logger;
  /** Delay between attempts to (re)initialise, and before re-joining after leave(). Default 5000 ms. */
  reconnectDelayMs?: number;
  /** Delay between retries of a call that answered CS_ERR_TRY_AGAIN. Default 100 ms. */
  tryAgainDelayMs?: number;
  /** Attempts of one multicast that keeps answering CS_ERR_TRY_AGAIN before it gives up with EBUSY. */
  mcastMaxTries?: number;
  /** Latency spans: a cpg_mcast_joined call from start to end (trace/write-spans.ts nowNs). */
  onMcast?: (start: number, end: number) => void;
}

type State =
  | 'stopped' // not started, or stopped: no handle, no timers
  | 'waiting' // no handle; a timer will initialise
  | 'joining' // handle, cpg_join answered TRY_AGAIN; a timer retries it
  | 'joined' // in the group, dispatching
  | 'leaving'; // cpg_leave done (or being retried); a timer finalizes and re-joins

interface PendingSend {
  data: Buffer;
  tries: number;
  resolve: (result: number) => void;
}

export class CpgGroup implements GroupTransport {
  private readonly nameBytes: Buffer;
  private readonly log: Logger;
  private readonly problems: OncePerStateLog;
  private readonly reconnectDelayMs: number;
  private readonly tryAgainDelayMs: number;
  private readonly mcastMaxTries: number;

  private state: State = 'stopped';
  private rejoinAfterLeave = true;
  private slots: CpgCallbackSlots | null = null;
  private handle: bigint | null = null;
  private poller: DispatchPoller | null = null;
  private timer: NodeJS.Timeout | null = null;
  private self: GroupMember | null = null;
  /** Sends in order; the head is being tried (or waits after TRY_AGAIN). */
  private readonly sendQueue: PendingSend[] = [];
  private sendTimer: NodeJS.Timeout | null = null;
  /** When the current (or last) cpg_dispatch started: the cpg fd woke the event loop (nowNs). */
  dispatchStart = 0;

  constructor(
    private readonly groupName: string,
    private readonly handler: GroupHandler,
    private readonly options: CpgGroupOptions = {},
  ) {
    this.nameBytes = encodeCpgName(groupName);
    this.log = options.log ?? stderrLogger;
    this.problems = new OncePerStateLog(this.log);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 5000;
    this.tryAgainDelayMs = options.tryAgainDelayMs ?? 100;
    this.mcastMaxTries = options.mcastMaxTries ?? 100;
  }

  /** Our member identity while joined (nodeid from cpg_local_get, our pid), else null. */
  get member(): GroupMember | null {
    return this.state === 'joined' ? this.self : null;
  }

  get isJoined(): boolean {
    return this.state === 'joined';
  }

  /** Starts trying to join at once; keeps trying until stop(). */
  start(): void {
    if (this.state !== 'stopped') return;
    this.slots = new CpgCallbackSlots(
      {
        deliver: (nodeid, pid, data) => this.onDeliver(nodeid, pid, data),
        confchg: (members, left, joined) => this.onConfchg(members, left, joined),
      },
      (where, err) => this.log('error', `cpg ${this.groupName}: ${where} callback threw: ${describe(err)}`),
    );
    this.state = 'waiting';
    this.connect();
  }

  /** Leaves the group, finalizes, and cancels every timer; pending sends answer EBUSY. */
  stop(): void {
    if (this.state === 'stopped') return;
    if (this.handle !== null && (this.state === 'joined' || this.state === 'joining')) {
      // One attempt only: stop must not wait. Finalize makes corosync drop us anyway.
      cpgLeave(this.handle, this.nameBytes);
    }
    const slots = this.slots;
    this.slots = null;
    this.teardown('stopped', false, () => slots?.release());
    this.state = 'stopped';
    this.clearTimer();
  }

  mcast(data: Buffer): Promise<number> {
    if (this.state !== 'joined') return Promise.resolve(-Errno.EBUSY);
    return new Promise<number>((resolve) => {
      this.sendQueue.push({ data, tries: 0, resolve });
      if (this.sendQueue.length === 1) this.pumpSends();
    });
  }

  /**
   * cpg_leave (retried on TRY_AGAIN), then finalize and join again after the reconnect delay.
   * `rejoin = false` stays out for good (a DFSM in ERROR/VERSION_ERROR must not come back: the others
   * would wait for its state forever); only stop() + start() brings it back.
   */
  leave(rejoin = true): void {
    if (this.state !== 'joined') return;
    this.rejoinAfterLeave = rejoin;
    this.state = 'leaving';
    this.failSends();
    this.tryLeave();
  }

  // --- connection ---------------------------------------------------------------------------

  private connect(): void {
    this.timer = null;
    if (this.state !== 'waiting' || this.slots === null) return;
    const init = cpgInitialize(this.slots);
    if (!init.ok) {
      this.problems.problem('warning', `cpg ${this.groupName}: cpg_initialize failed: ${csErrorName(init.error)}`);
      return this.retryLater();
    }
    this.handle = init.value;
    const local = cpgLocalGet(this.handle);
    const fd = local.ok ? cpgFdGet(this.handle) : local;
    if (!local.ok || !fd.ok) {
      const error = !local.ok ? local.error : (fd as { error: number }).error;
      this.problems.problem('warning', `cpg ${this.groupName}: cpg_local_get/fd_get failed: ${csErrorName(error)}`);
      this.finalizeHandle();
      return this.retryLater();
    }
    this.self = { nodeid: local.value, pid: process.pid };
    this.state = 'joining';
    this.tryJoin(fd.value);
  }

  private tryJoin(fd: number): void {
    this.timer = null;
    if (this.state !== 'joining' || this.handle === null) return;
    const joined = cpgJoin(this.handle, this.nameBytes);
    if (!joined.ok && joined.error === CsError.ERR_TRY_AGAIN) {
      this.timer = setTimeout(() => this.tryJoin(fd), this.tryAgainDelayMs);
      return;
    }
    if (!joined.ok) {
      this.problems.problem('warning', `cpg ${this.groupName}: cpg_join failed: ${csErrorName(joined.error)}`);
      this.finalizeHandle();
      this.state = 'waiting';
      return this.retryLater();
    }
    const handle = this.handle;
    this.state = 'joined';
    this.problems.clear();
    this.log('notice', `cpg ${this.groupName}: joined as nodeid ${this.self!.nodeid} pid ${this.self!.pid}`);
    this.poller = new DispatchPoller(
      fd,
      () => {
        this.dispatchStart = nowNs();
        return cpgDispatch(handle, CS_DISPATCH_ALL);
      },
      (error) => this.lost(`cpg_dispatch failed: ${csErrorName(error)}`),
    );
    this.safely('joined', () => this.handler.joined({ ...this.self! }));
  }

  private tryLeave(): void {
    this.timer = null;
    if (this.state !== 'leaving' || this.handle === null) return;
    const left = cpgLeave(this.handle, this.nameBytes);
    if (!left.ok && left.error === CsError.ERR_TRY_AGAIN) {
      this.timer = setTimeout(() => this.tryLeave(), this.tryAgainDelayMs);
      return;
    }
    if (!left.ok) this.log('warning', `cpg ${this.groupName}: cpg_leave failed: ${csErrorName(left.error)}`);
    else this.log('notice', `cpg ${this.groupName}: left the group, re-joining in ${this.reconnectDelayMs} ms`);
    // Keep dispatching meanwhile: the confchg that shows us gone still arrives.
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.rejoinAfterLeave) {
        this.teardown('left the group', false);
        this.state = 'stopped';
        this.log('notice', `cpg ${this.groupName}: staying out of the group until restarted`);
        this.safely('disconnected', () => this.handler.disconnected('left the group for good'));
        return;
      }
      this.teardown('left the group', true);
      // The delay has passed already: initialise again now, not one more delay later.
      if (this.state === 'waiting') {
        this.clearTimer();
        this.connect();
      }
    }, this.reconnectDelayMs);
  }

  /** The connection broke (corosync gone): tell the handler, finalize, and try again later. */
  private lost(reason: string): void {
    this.problems.problem('warning', `cpg ${this.groupName}: ${reason}; corosync gone? re-initialising`);
    this.teardown(reason, true);
  }

  /**
   * Drops the handle (safe from inside a callback: finalize waits for dispatch to return); with
   * `retry`, tells the handler and schedules the next initialisation.
   */
  private teardown(reason: string, retry: boolean, afterFinalize?: () => void): void {
    const wasInGroup = this.state === 'joined' || this.state === 'leaving';
    this.clearTimer();
    this.failSends();
    this.finalizeHandle(afterFinalize);
    this.self = null;
    if (!retry) return;
    this.state = 'waiting';
    if (wasInGroup) this.safely('disconnected', () => this.handler.disconnected(reason));
    if (this.state === 'waiting') this.retryLater();
  }

  private finalizeHandle(afterFinalize: () => void = () => {}): void {
    const handle = this.handle;
    const release = () => {
      if (handle !== null) cpgFinalize(handle);
      afterFinalize();
    };
    this.handle = null;
    if (this.poller !== null) this.poller.closeThen(release);
    else release();
    this.poller = null;
  }

  private retryLater(): void {
    this.clearTimer();
    this.timer = setTimeout(() => this.connect(), this.reconnectDelayMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  // --- sending -------------------------------------------------------------------------------

  /** Sends the queue head; TRY_AGAIN waits and retries it, so later sends never overtake it. */
  private pumpSends(): void {
    this.sendTimer = null;
    while (this.sendQueue.length > 0) {
      const head = this.sendQueue[0]!;
      if (this.state !== 'joined' || this.handle === null) return this.failSends();
      head.tries++;
      const start = this.options.onMcast !== undefined ? nowNs() : 0;
      const sent = cpgMcastJoined(this.handle, CPG_TYPE_AGREED, head.data);
      if (start !== 0) this.options.onMcast!(start, nowNs());
      if (!sent.ok && sent.error === CsError.ERR_TRY_AGAIN && head.tries < this.mcastMaxTries) {
        if (head.tries % 10 === 0) {
          this.log('notice', `cpg ${this.groupName}: cpg_mcast_joined retried ${head.tries} times`);
        }
        this.sendTimer = setTimeout(() => this.pumpSends(), this.tryAgainDelayMs);
        return;
      }
      this.sendQueue.shift();
      if (sent.ok) {
        head.resolve(0);
      } else {
        this.log('warning', `cpg ${this.groupName}: cpg_mcast_joined failed: ${csErrorName(sent.error)}`);
        head.resolve(-Errno.EBUSY);
      }
    }
  }

  private failSends(): void {
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    for (const pending of this.sendQueue.splice(0)) pending.resolve(-Errno.EBUSY);
  }

  // --- callbacks (inside cpg_dispatch) -------------------------------------------------------

  private onDeliver(nodeid: number, pid: number, data: Buffer): void {
    if (this.state !== 'joined' && this.state !== 'leaving') return;
    this.safely('deliver', () => this.handler.deliver({ nodeid, pid }, data));
  }

  private onConfchg(members: CpgAddress[], left: CpgAddress[], joined: CpgAddress[]): void {
    if (this.state !== 'joined' && this.state !== 'leaving') return;
    const plain = (list: CpgAddress[]): GroupMember[] => list.map(({ nodeid, pid }) => ({ nodeid, pid }));
    this.safely('confchg', () => this.handler.confchg(plain(members), plain(left), plain(joined)));
  }

  /**
   * A handler that throws must not unwind into libcpg or the event loop. After a delivery or view
   * change it threw on, the handler's state may miss that event, and the group would wait for it
   * (a DFSM sync that never completes holds every member's writes): leave, so the others go on
   * without us, and join again later with a fresh state (the handler hears `disconnected`).
   */
  private safely(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log('error', `cpg ${this.groupName}: handler.${what} threw: ${describe(err)}`);
      if (what === 'deliver' || what === 'confchg') {
        this.log('error', `cpg ${this.groupName}: leaving the group to start over`);
        // Not from inside cpg_dispatch: after this dispatch returns.
        setImmediate(() => this.leave(true));
      }
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
