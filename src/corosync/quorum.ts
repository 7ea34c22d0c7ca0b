/**
 * Quorum as libquorum reports it (spec §7): quorate flag from the notify callback, false whenever the
 * service is gone (and before corosync is up); re-initialises every 5 s until stop().
 */
import type { QuorumSource } from '../dfsm/transport';
import { CS_DISPATCH_ALL, CS_TRACK_CHANGES, csErrorName } from './cs-error';
import { DispatchPoller } from './dispatch-poller';
import {
  QUORUM_SET, QuorumCallbackSlot, quorumDispatch, quorumFdGet, quorumFinalize, quorumGetquorate, quorumInitialize,
  quorumTrackstart,
} from './libquorum';
import { Logger, OncePerStateLog, stderrLogger } from './log';

export interface QuorumTrackerOptions {
  log?: Logger;
  /** Delay between attempts to (re)initialise. Default 5000 ms. */
  reconnectDelayMs?: number;
}

export class QuorumTracker implements QuorumSource {
  private readonly log: Logger;
  private readonly problems: OncePerStateLog;
  private readonly reconnectDelayMs: number;
  private readonly listeners = new Set<(quorate: boolean) => void>();
  private running = false;
  private slot: QuorumCallbackSlot | null = null;
  private handle: bigint | null = null;
  private poller: DispatchPoller | null = null;
  private timer: NodeJS.Timeout | null = null;
  private isQuorate = false;

  constructor(options: QuorumTrackerOptions = {}) {
    this.log = options.log ?? stderrLogger;
    this.problems = new OncePerStateLog(this.log);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 5000;
  }

  quorate(): boolean {
    return this.isQuorate;
  }

  /** Calls `listener(quorate)` on every change; returns a function that unsubscribes. */
  onChange(listener: (quorate: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.slot = new QuorumCallbackSlot(
      (quorate) => this.setQuorate(quorate),
      (where, err) => this.log('error', `quorum: ${where} threw: ${String(err)}`),
    );
    this.connect();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clearTimer();
    const slot = this.slot;
    this.slot = null;
    this.disconnect(() => slot?.release());
    this.setQuorate(false);
  }

  private connect(): void {
    this.timer = null;
    if (!this.running || this.slot === null) return;
    const init = quorumInitialize(this.slot);
    if (!init.ok) return this.failed(`quorum_initialize failed: ${csErrorName(init.error)}`);
    this.handle = init.value.handle;
    if (init.value.quorumType !== QUORUM_SET) {
      return this.failed('quorum_initialize failed: quorum type is not QUORUM_SET (no quorum provider configured)');
    }
    const track = quorumTrackstart(this.handle, CS_TRACK_CHANGES);
    if (!track.ok) return this.failed(`quorum_trackstart failed: ${csErrorName(track.error)}`);
    const fd = quorumFdGet(this.handle);
    if (!fd.ok) return this.failed(`quorum_fd_get failed: ${csErrorName(fd.error)}`);
    const handle = this.handle;
    this.poller = new DispatchPoller(fd.value, () => quorumDispatch(handle, CS_DISPATCH_ALL), (error) =>
      this.failed(`quorum_dispatch failed: ${csErrorName(error)}`));
    this.problems.clear();
    this.log('info', 'quorum service connected');
    // The notification of trackstart follows; asking now closes the window until it is dispatched.
    const now = quorumGetquorate(handle);
    if (now.ok) this.setQuorate(now.value);
  }

  /** Service gone or unusable: not quorate, drop the handle, try again later. */
  private failed(message: string): void {
    this.problems.problem('warning', `quorum: ${message}`);
    this.disconnect();
    this.setQuorate(false);
    if (this.running) this.timer = setTimeout(() => this.connect(), this.reconnectDelayMs);
  }

  private disconnect(afterFinalize: () => void = () => {}): void {
    const handle = this.handle;
    this.handle = null;
    const release = () => {
      if (handle !== null) quorumFinalize(handle);
      afterFinalize();
    };
    if (this.poller !== null) this.poller.closeThen(release);
    else release();
    this.poller = null;
  }

  private setQuorate(quorate: boolean): void {
    if (quorate === this.isQuorate) return;
    this.isQuorate = quorate;
    this.log('notice', quorate ? 'node has quorum' : 'node lost quorum');
    for (const listener of [...this.listeners]) {
      try {
        listener(quorate);
      } catch (err) {
        this.log('error', `quorum: onChange listener threw: ${String(err)}`);
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
