/**
 * The origin side of dcdb (spec §5.1, §8.7): what a FUSE call does in cluster mode. Checks quorum,
 * multicasts the operation and answers with the result of applying it here at delivery.
 * Shell-facing (promises), but no I/O of its own: everything goes through the runner.
 */
import type { DfsmRunner } from '../dfsm/runner';
import type { SendResult } from '../dfsm/dfsm';
import type { QuorumSource } from '../dfsm/transport';
import { Errno } from '../memdb/errno';
import type { MemDb } from '../memdb/memdb';
import { isLockDir } from '../memdb/paths';
import { DT_DIR, type FsOp } from '../memdb/types';
import { nowNs, writeSpans } from '../trace/write-spans';
import { DISK_FULL_LEAVE_REASON, type DcdbEffect } from './app';
import { DcdbMessageType, encodeFsOp, encodeUnlockMessage } from './messages';

/** The release reason used when quorum is lost with writes in flight (answered EACCES). */
export const QUORUM_LOST = 'quorum lost';

export class DcdbClient {
  constructor(
    private readonly runner: DfsmRunner<DcdbEffect>,
    private readonly memdb: MemDb,
    private readonly quorum: QuorumSource,
  ) {}

  /**
   * Replicate one operation: -EACCES without sending when not quorate; otherwise the result of
   * applying it at delivery, -EACCES if quorum was lost meanwhile, -ENOSPC if this node could not
   * store it (it left the group to resync; the others may have applied it), -EBUSY if it was never
   * applied.
   */
  async submit(op: FsOp): Promise<number> {
    const span = writeSpans.begin();
    if (!this.quorum.quorate()) return -Errno.EACCES;
    span.quorum = nowNs();
    const message = encodeFsOp(op);
    if (message === undefined) return -Errno.EFBIG;
    span.encoded = nowNs();
    writeSpans.submitting(span);
    let sending: Promise<SendResult>;
    try {
      sending = this.runner.send(message.subtype, message.payload);
    } finally {
      writeSpans.submitted();
    }
    const result = await sending;
    writeSpans.finished(span);
    return this.answer(result);
  }

  /**
   * utime(path, 0, 0) on a lock directory (spec §8.7): multicast UNLOCK_REQUEST (no wait), then
   * the MTIME(0) operation, whose result (normally -EACCES) is the answer.
   */
  async requestUnlock(path: string): Promise<number> {
    if (!this.quorum.quorate()) return -Errno.EACCES;
    const entry = this.memdb.lookup(path);
    const csum = entry !== undefined && entry.type === DT_DIR && isLockDir(path) ? this.memdb.lockChecksum(path) : undefined;
    if (csum !== undefined) {
      // Handed to the transport before the MTIME below, so it is ordered first.
      void this.runner.sendAsync(DcdbMessageType.UNLOCK_REQUEST, encodeUnlockMessage({ csum, path }));
    }
    return this.submit({ kind: 'mtime', path, mtime: 0 });
  }

  /** Quorum changed: on loss every write in flight answers -EACCES at once. */
  quorumChanged(quorate: boolean): void {
    if (!quorate) this.runner.releaseWaiters(QUORUM_LOST);
  }

  private answer(result: SendResult): number {
    if (result.processed) return result.result;
    // Our own message could not be stored here (disk full): this node left the group to resync.
    if (result.reason.startsWith(DISK_FULL_LEAVE_REASON)) return -Errno.ENOSPC;
    if (result.reason === QUORUM_LOST || !this.quorum.quorate()) return -Errno.EACCES;
    return -Errno.EBUSY;
  }
}
