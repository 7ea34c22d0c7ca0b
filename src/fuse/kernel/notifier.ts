/**
 * Cache notifications to the kernel (messages with unique 0 written to /dev/fuse), split by whether
 * the kernel may block on them.
 *
 * - Attributes only (INVAL_INODE with a negative offset) and INC_EPOCH take no sleeping lock in the
 *   kernel (fs/fuse/inode.c fuse_reverse_inval_inode: a spinlock; fs/fuse/dev.c INC_EPOCH: an
 *   atomic increment), so they are written at once, on the event loop, in the same turn that
 *   applied the change: nothing this daemon answers afterwards can race them.
 * - Page contents (INVAL_INODE with offset 0) make the kernel lock every cached page of the file,
 *   and a page is locked while a READ (or a WRITE) of it waits for this daemon's answer. Written on
 *   the event loop it would deadlock, so it goes through a libuv pool thread (koffi's async call),
 *   one at a time in order. While a node has one in flight, `settled(node)` is a promise: the
 *   requests that hand the kernel attributes or an open file for that node (LOOKUP, GETATTR,
 *   SETATTR, OPEN) are answered only after it, so no reader passes its attribute check and then
 *   reads the old pages. READ and WRITE are never held (their pages are what the thread waits for).
 *
 * INVAL_ENTRY is not used: the kernel takes the parent directory's inode lock for it, which every
 * LOOKUP/CREATE/READDIR in flight in that directory holds; names are dropped with INC_EPOCH instead.
 */
import koffi from 'koffi';
import { encodeNotifyIncEpoch, encodeNotifyInvalInode } from './abi';
import type { DevFuse } from './dev-fuse';
import { ENOENT } from './dev-fuse';

type AsyncWrite = (fd: number, buf: Buffer, len: number, cb: (err: unknown, res: number) => void) => void;

let asyncWrite: AsyncWrite | null = null;
function poolWrite(): AsyncWrite {
  if (asyncWrite === null) {
    const write = koffi.load('libc.so.6').func('long write(int fd, const void *buf, unsigned long count)');
    asyncWrite = (fd, buf, len, cb) => (write as unknown as { async: AsyncWrite }).async(fd, buf, len, cb);
  }
  return asyncWrite;
}

export type NotifyLog = (level: 'err' | 'debug', msg: string) => void;

export class KernelNotifier {
  /** Page invalidations not yet written, in order. */
  private readonly queue: number[] = [];
  private writing = false;
  /** Per node: the promise of its last queued page invalidation and how many are outstanding. */
  private readonly pending = new Map<number, { count: number; done: Promise<void>; resolve: () => void }>();
  private epochSupported = true;

  constructor(private readonly dev: DevFuse, private readonly log: NotifyLog) {}

  /** Drops the cached attributes of a node (permissions, size, mtime are asked for again). */
  invalidateAttributes(nodeid: number): void {
    const r = this.dev.write(encodeNotifyInvalInode(nodeid, -1, 0));
    // ENOENT: the kernel has no inode for it (forgotten meanwhile), so nothing is cached.
    if (r < 0 && r !== -ENOENT) this.log('debug', `fuse: attribute invalidation of node ${nodeid} failed: errno ${-r}`);
  }

  /** Every name the kernel looked up is revalidated at its next use. False when the kernel refused it. */
  dropAllNames(): boolean {
    if (!this.epochSupported) return false;
    const r = this.dev.write(encodeNotifyIncEpoch());
    if (r < 0) {
      this.epochSupported = false;
      this.log('err', `fuse: the kernel refused FUSE_NOTIFY_INC_EPOCH (errno ${-r}); names are no longer cached`);
      return false;
    }
    return true;
  }

  /** Drops the cached pages of a node, from a pool thread (see above). */
  invalidatePages(nodeid: number): void {
    let p = this.pending.get(nodeid);
    if (p === undefined) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      p = { count: 0, done, resolve };
      this.pending.set(nodeid, p);
    }
    p.count++;
    this.queue.push(nodeid);
    this.writeNext();
  }

  /** A promise while a page invalidation of `nodeid` is outstanding, else null. */
  settled(nodeid: number): Promise<void> | null {
    return this.pending.get(nodeid)?.done ?? null;
  }

  private writeNext(): void {
    if (this.writing) return;
    const nodeid = this.queue.shift();
    if (nodeid === undefined) return;
    if (this.dev.isClosed) return this.finished(nodeid);
    this.writing = true;
    const msg = encodeNotifyInvalInode(nodeid, 0, 0);
    poolWrite()(this.dev.fd, msg, msg.length, (err, res) => {
      this.writing = false;
      // A negative result is ENOENT (nothing cached) or ENODEV (unmounted); either way nothing stale is left.
      if (err) this.log('debug', `fuse: page invalidation of node ${nodeid} failed: ${String(err)}`);
      else if (res < 0) this.log('debug', `fuse: page invalidation of node ${nodeid} returned ${res}`);
      this.finished(nodeid);
    });
  }

  private finished(nodeid: number): void {
    const p = this.pending.get(nodeid);
    if (p !== undefined && --p.count === 0) {
      this.pending.delete(nodeid);
      p.resolve();
    }
    this.writeNext();
  }
}
