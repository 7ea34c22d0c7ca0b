/**
 * The shell driver of one DFSM: a GroupHandler that feeds transport events into the pure Dfsm and
 * carries out the effects it returns, in order. The daemon (over CPG) and the simulation (over a
 * simulated group) use this same driver.
 *
 * It retries nothing itself (the transport retries TRY_AGAIN). It assumes the transport hands
 * multicasts to the group in call order and never calls the handler from inside mcast().
 */
import type { GroupHandler, GroupMember, GroupTransport } from './transport';
import type { LogLevel } from './app';
import { Dfsm, DfsmEffect, SendResult } from './dfsm';
import { DfsmMessageType } from './header';
import type { DfsmModeValue } from './modes';

export interface DfsmRunnerOptions<E> {
  /** Seconds since the epoch; the simulation passes its virtual clock. */
  now: () => number;
  onAppEffect?: (effect: E) => void;
  onLog?: (level: LogLevel, message: string) => void;
  onModeChange?: (from: DfsmModeValue, to: DfsmModeValue) => void;
  /** Latency spans: the count a waited-for message got, and the moment its result is reported. */
  trace?: { sent(count: number): void; resultOf(count: number): void };
}

export class DfsmRunner<E = never> implements GroupHandler {
  private readonly waiters = new Map<number, (result: SendResult) => void>();

  constructor(
    readonly dfsm: Dfsm<E>,
    private readonly transport: GroupTransport,
    private readonly options: DfsmRunnerOptions<E>,
  ) {}

  // ---- GroupHandler ----

  joined(self: GroupMember): void {
    this.run(this.dfsm.joined(self));
  }

  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[]): void {
    this.run(this.dfsm.confchg(members, left, joined, this.options.now()));
  }

  deliver(from: GroupMember, data: Buffer): void {
    this.run(this.dfsm.deliver(from, data, this.options.now()));
  }

  disconnected(reason: string): void {
    this.run(this.dfsm.disconnected(reason));
  }

  // ---- API for the application layer ----

  /**
   * Multicast a NORMAL message and wait until it is delivered back and applied here (spec §4.6).
   * No timeout: resolves when applied, or "not processed" on leave/disconnect/release/send failure.
   */
  send(subtype: number, payload: Buffer): Promise<SendResult> {
    const outcome = this.dfsm.send(subtype, payload, this.options.now(), true);
    if (!outcome.ok) {
      this.run(outcome.effects);
      return Promise.resolve({ processed: false, reason: outcome.reason });
    }
    const { count } = outcome;
    this.options.trace?.sent(count);
    const promise = new Promise<SendResult>((resolve) => this.waiters.set(count, resolve));
    this.run(outcome.effects, (rc) => {
      if (rc < 0) this.run(this.dfsm.cancelWaiter(count, `multicast failed (${rc})`));
    });
    return promise;
  }

  /** Multicast a NORMAL message without waiting. Resolves 0, or -errno when it could not be sent. */
  sendAsync(subtype: number, payload: Buffer): Promise<number> {
    const outcome = this.dfsm.send(subtype, payload, this.options.now(), false);
    if (!outcome.ok) {
      this.run(outcome.effects);
      return Promise.resolve(-16 /* EBUSY */);
    }
    return new Promise<number>((resolve) => this.run(outcome.effects, resolve));
  }

  /** Release every waiting send as not processed (e.g. quorum lost). */
  releaseWaiters(reason: string): void {
    this.run(this.dfsm.releaseWaiters(reason));
  }

  /** The periodic timer; the shell calls it (e.g. every second). */
  tick(): void {
    this.run(this.dfsm.tick(this.options.now()));
  }

  /** Start a verify round now (acts only on the lowest-nodeid member when SYNCED). */
  verifyRequest(): void {
    this.run(this.dfsm.verifyRequest(this.options.now()));
  }

  // ---- effects ----

  private run(effects: DfsmEffect<E>[], onNormalSent?: (rc: number) => void): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'mcast':
          this.multicast(effect.data, onNormalSent);
          break;
        case 'leave':
          this.transport.leave(effect.restartable);
          break;
        case 'mode':
          this.options.onModeChange?.(effect.from, effect.to);
          break;
        case 'result': {
          const resolve = this.waiters.get(effect.count);
          if (resolve !== undefined) {
            this.options.trace?.resultOf(effect.count);
            this.waiters.delete(effect.count);
            resolve(effect.result);
          }
          break;
        }
        case 'log':
          this.options.onLog?.(effect.level, effect.message);
          break;
        case 'app':
          this.options.onAppEffect?.(effect.effect);
          break;
      }
    }
  }

  private multicast(data: Buffer, onNormalSent?: (rc: number) => void): void {
    const isNormal = data.length >= 2 && data.readUInt16LE(0) === DfsmMessageType.NORMAL;
    this.transport.mcast(data).then(
      (rc) => this.afterMulticast(rc, isNormal, onNormalSent),
      (err: unknown) => this.afterMulticast(-5 /* EIO */, isNormal, onNormalSent, String(err)),
    );
  }

  private afterMulticast(rc: number, isNormal: boolean, onNormalSent?: (rc: number) => void, detail?: string): void {
    if (isNormal) {
      if (rc < 0) this.options.onLog?.('warning', `multicast failed (${rc})${detail ? `: ${detail}` : ''}`);
      onNormalSent?.(rc);
      return;
    }
    if (rc < 0) {
      // A lost state message would stall the sync round: leave and start over (like the reference).
      this.run(this.dfsm.sendFailed(`failed to send a state message (${rc})${detail ? `: ${detail}` : ''}`, this.options.now()));
    }
  }
}
