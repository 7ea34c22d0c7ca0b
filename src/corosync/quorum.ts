/**
 * Quorum as libquorum reports it (spec §7): quorate flag from the notify callback, false whenever the
 * service is gone (and before corosync is up); re-initialises every 5 s until stop().
 */
import type { QuorumSource } from '../dfsm/transport';
import { CS_DISPATCH_ALL, CS_TRACK_CHANGES, csErrorName } from './cs-error';
import {
  QUORUM_SET, QuorumCallbackSlot, quorumDispatch, quorumFdGet, quorumFinalize, quorumGetquorate, quorumInitialize,
  quorumTrackstart,
} from './libquorum';
import { ReconnectingClient, type ReconnectingClientOptions } from './reconnecting-client';

export type QuorumTrackerOptions = ReconnectingClientOptions;

export class QuorumTracker extends ReconnectingClient<QuorumCallbackSlot> implements QuorumSource {
  private readonly listeners = new Set<(quorate: boolean) => void>();
  private isQuorate = false;

  constructor(options: QuorumTrackerOptions = {}) {
    super('quorum', options);
  }

  quorate(): boolean {
    return this.isQuorate;
  }

  /** Calls `listener(quorate)` on every change; returns a function that unsubscribes. */
  onChange(listener: (quorate: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected createSlot(): QuorumCallbackSlot {
    return new QuorumCallbackSlot(
      (quorate) => this.setQuorate(quorate),
      (where, err) => this.log('error', `quorum: ${where} threw: ${String(err)}`),
    );
  }

  protected open(slot: QuorumCallbackSlot): void {
    const init = quorumInitialize(slot);
    if (!init.ok) return this.failed(`quorum_initialize failed: ${csErrorName(init.error)}`);
    const handle = init.value.handle;
    this.handle = handle;
    if (init.value.quorumType !== QUORUM_SET) {
      return this.failed('quorum_initialize failed: quorum type is not QUORUM_SET (no quorum provider configured)');
    }
    const track = quorumTrackstart(handle, CS_TRACK_CHANGES);
    if (!track.ok) return this.failed(`quorum_trackstart failed: ${csErrorName(track.error)}`);
    const fd = quorumFdGet(handle);
    if (!fd.ok) return this.failed(`quorum_fd_get failed: ${csErrorName(fd.error)}`);
    this.poll(fd.value, () => quorumDispatch(handle, CS_DISPATCH_ALL), 'quorum_dispatch');
    this.log('info', 'quorum service connected');
    // The notification of trackstart follows; asking now closes the window until it is dispatched.
    const now = quorumGetquorate(handle);
    if (now.ok) this.setQuorate(now.value);
  }

  protected finalize(handle: bigint): void {
    quorumFinalize(handle);
  }

  /** Without the service there is no quorum. */
  protected override lost(): void {
    this.setQuorate(false);
  }

  private setQuorate(quorate: boolean): void {
    if (quorate === this.isQuorate) return;
    this.isQuorate = quorate;
    // the operator-facing line is logged by the status layer, as the reference's [status] domain does
    this.log('debug', quorate ? 'quorate' : 'not quorate');
    this.notify(this.listeners, quorate);
  }
}
