/**
 * libqb's event loop hooks (struct qb_ipcs_poll_handlers) on Node's event loop: dispatch_add polls
 * the fd with koffi.node.poll and calls libqb's dispatch function on the main thread whenever the
 * fd is ready; job_add runs the job with setImmediate. As in qb_loop, a dispatch function that
 * returns < 0 has its fd removed. libqb adds and removes fds from inside its own dispatch functions
 * (accept -> auth -> connection), and fd numbers are reused right after a close: every entry is
 * keyed by fd and compared by identity before it is touched after a dispatch.
 *
 * The C function pointers are registered once per process and never unregistered: libqb may call
 * them as long as any service exists, and there are four of them.
 */
import koffi from 'koffi';
import {
  DispatchAddFn,
  DispatchDelFn,
  DispatchFn,
  JobAddFn,
  JobFn,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLPRI,
} from './libqb';

const EEXIST = 17;
const ENOENT = 2;

type PollHandle = ReturnType<typeof koffi.node.poll>;

interface PollEntry {
  fd: number;
  events: number;
  data: unknown;
  fn: unknown;
  handle: PollHandle;
}

/** Where the bridge reports what it cannot hand back to libqb (a throwing dispatch). */
export type BridgeLog = (message: string) => void;

class QbPollBridge {
  private readonly entries = new Map<number, PollEntry>();
  private readonly jobs = new Set<NodeJS.Immediate>();
  private log: BridgeLog = () => {};
  /** The registered C pointers, in the shape of struct qb_ipcs_poll_handlers. */
  readonly handlers: Record<string, unknown>;

  constructor() {
    this.handlers = {
      job_add: koffi.register((_p: number, data: unknown, fn: unknown) => this.jobAdd(data, fn), koffi.pointer(JobAddFn)),
      dispatch_add: koffi.register(
        (_p: number, fd: number, events: number, data: unknown, fn: unknown) => this.dispatchAdd(fd, events, data, fn),
        koffi.pointer(DispatchAddFn),
      ),
      dispatch_mod: koffi.register(
        (_p: number, fd: number, events: number, data: unknown, fn: unknown) => this.dispatchMod(fd, events, data, fn),
        koffi.pointer(DispatchAddFn),
      ),
      dispatch_del: koffi.register((fd: number) => this.dispatchDel(fd), koffi.pointer(DispatchDelFn)),
    };
  }

  setLog(log: BridgeLog): void {
    this.log = log;
  }

  /** Number of fds being polled (for tests and the status of the server). */
  get pollCount(): number {
    return this.entries.size;
  }

  /** Stops every poll and drops queued jobs (after the last service was destroyed). */
  reset(): void {
    for (const fd of [...this.entries.keys()]) this.dispatchDel(fd);
    for (const job of this.jobs) clearImmediate(job);
    this.jobs.clear();
  }

  private jobAdd(data: unknown, fn: unknown): number {
    const job = setImmediate(() => {
      this.jobs.delete(job);
      try {
        koffi.call(fn, JobFn, data);
      } catch (e) {
        this.log(`libqb job failed: ${(e as Error).message}`);
      }
    });
    this.jobs.add(job);
    return 0;
  }

  private dispatchAdd(fd: number, events: number, data: unknown, fn: unknown): number {
    if (this.entries.has(fd)) return -EEXIST;
    const entry: PollEntry = { fd, events, data, fn, handle: null as unknown as PollHandle };
    entry.handle = this.startPoll(entry);
    this.entries.set(fd, entry);
    return 0;
  }

  private dispatchMod(fd: number, events: number, data: unknown, fn: unknown): number {
    const entry = this.entries.get(fd);
    if (entry === undefined) return -ENOENT;
    entry.data = data;
    entry.fn = fn;
    if (entry.events !== events) {
      entry.events = events;
      entry.handle.stop();
      entry.handle.start(pollOptions(events), this.readyCallback(entry));
    }
    return 0;
  }

  private dispatchDel(fd: number): number {
    const entry = this.entries.get(fd);
    if (entry === undefined) return -ENOENT;
    this.entries.delete(fd);
    entry.handle.stop();
    entry.handle.close();
    return 0;
  }

  private startPoll(entry: PollEntry): PollHandle {
    return koffi.node.poll(entry.fd, pollOptions(entry.events), this.readyCallback(entry));
  }

  /** koffi calls back with (status, events), although its .d.ts shows only the events. */
  private readyCallback(entry: PollEntry): (ev: PollEvents) => void {
    return ((status: number, ev: PollEvents) => this.onReady(entry, status, ev)) as unknown as (ev: PollEvents) => void;
  }

  private onReady(entry: PollEntry, status: number, ev: PollEvents): void {
    if (this.entries.get(entry.fd) !== entry) return;
    const revents =
      status < 0 ? POLLERR : (ev.readable ? POLLIN : 0) | (ev.writable ? POLLOUT : 0) | (ev.disconnect ? POLLHUP : 0);
    let res: number;
    try {
      res = koffi.call(entry.fn, DispatchFn, entry.fd, revents, entry.data) as number;
    } catch (e) {
      this.log(`libqb dispatch of fd ${entry.fd} failed: ${(e as Error).message}`);
      res = -1;
    }
    if (res < 0 && this.entries.get(entry.fd) === entry) this.dispatchDel(entry.fd);
  }
}

interface PollEvents {
  readable: boolean;
  writable: boolean;
  disconnect: boolean;
}

function pollOptions(events: number): { readable: boolean; writable: boolean; disconnect: boolean } {
  return { readable: (events & (POLLIN | POLLPRI)) !== 0, writable: (events & POLLOUT) !== 0, disconnect: true };
}

let bridge: QbPollBridge | undefined;

/** The process's one bridge (created, and its callbacks registered, on first use). */
export function qbPollBridge(): QbPollBridge {
  bridge ??= new QbPollBridge();
  return bridge;
}

export type { QbPollBridge };
