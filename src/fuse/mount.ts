/**
 * Mounts PveFs at a directory: /dev/fuse opened and mounted by the daemon itself (no libfuse), the
 * kernel protocol spoken by FuseSession on the event loop, requests answered by the handlers of
 * kernel-ops.ts. Mount options as the reference: default_permissions, allow_other; what the kernel
 * may cache is kernel-cache.ts's decision (with a source of changes and FUSE 7.44: names, attributes
 * and pages, notified on every change; otherwise the reference's 1 s and direct_io on every open);
 * unlinking an open file removes it at once (libfuse's hard_remove); writes up to 1 MiB arrive as
 * one request (the largest file pmxcfs holds).
 */
import { FUSE_ASYNC_READ, FUSE_AUTO_INVAL_DATA, FUSE_BIG_WRITES, FUSE_MAX_PAGES, FUSE_PARALLEL_DIROPS } from './kernel/abi';
import { DevFuse } from './kernel/dev-fuse';
import { NodeTable } from './kernel/node-table';
import { KernelNotifier } from './kernel/notifier';
import { FuseSession } from './kernel/session';
import { KernelCache, type CacheSource } from './kernel-cache';
import { watchCpuPressure } from './kernel/cpu-pressure';
import { forgetUndelivered, pveHandlers } from './kernel-ops';
import type { PveFs } from './pve-fs';

export type FuseLog = (level: 'err' | 'debug', msg: string) => void;

const PAGE_SIZE = 4096;
/** One WRITE request may carry a whole 1 MiB file (the kernel's max_pages limit is 256 pages). */
const MAX_WRITE = 1024 * 1024;
/**
 * Longest busy-poll after each reply while the CPUs have room, see session.ts and spin-budget.ts;
 * PMXCFS_FUSE_SPIN_US overrides it (0 turns it off). 200 µs covers a thread-pool client's gap
 * between two calls (docs/benchmarks.md, "The FUSE spin follows the client").
 */
const DEFAULT_SPIN_MICROS = 200;

export interface MountedFs {
  unmount(): Promise<void>;
}

export interface MountOptions {
  spinMicros?: number;
  /** Called if the kernel ends the connection while mounted (e.g. an outside umount). */
  onGone?: () => void;
  /**
   * Where changes come from (the backend): with it, and a kernel with FUSE_NOTIFY_INC_EPOCH, the
   * kernel caches names, attributes and pages and is told of every change (kernel-cache.ts).
   * Without it the mount caches as the reference does.
   */
  changes?: CacheSource;
}

function spinFromEnv(): number | undefined {
  const v = process.env.PMXCFS_FUSE_SPIN_US;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 1000) : undefined;
}

export function mountPveFs(mountDir: string, fs: PveFs, now: () => number, log: FuseLog, o: MountOptions = {}): Promise<MountedFs> {
  const dev = DevFuse.mount(mountDir, { extra: ['allow_other', 'default_permissions'] });
  const nodes = new NodeTable();
  const cache = new KernelCache(nodes, new KernelNotifier(dev, log), o.changes);
  fs.onContentDiscarded = (path) => cache.contentDiscarded(path);
  fs.onOwnCommit = (path, content) => cache.ownCommit(path, content);
  let gone = false;
  const session = new FuseSession(
    dev,
    {
      handlers: pveHandlers(fs, nodes, now, cache),
      init: (kernelMinor, kernelFlags, maxReadahead) => {
        // Pages are kept only while the kernel checks the attributes at every read (auto_inval_data).
        const cached = cache.start(kernelMinor) && (kernelFlags & FUSE_AUTO_INVAL_DATA) !== 0;
        if (!cached) cache.stop();
        log('debug', `fuse: kernel protocol 7.${kernelMinor}, ${cached ? 'kernel caches with notifications' : 'caching as the reference'}`);
        const wanted = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_PARALLEL_DIROPS | (kernelMinor >= 28 ? FUSE_MAX_PAGES : 0) | (cached ? FUSE_AUTO_INVAL_DATA : 0);
        return {
          maxReadahead,
          flags: kernelFlags & wanted,
          maxBackground: 12,
          congestionThreshold: 9,
          maxWrite: kernelMinor >= 28 ? MAX_WRITE : 128 * 1024,
          maxPages: MAX_WRITE / PAGE_SIZE,
        };
      },
      onUndelivered: (h, body) => forgetUndelivered(nodes, h, body),
      spinMicros: o.spinMicros ?? spinFromEnv() ?? DEFAULT_SPIN_MICROS,
      log,
      onGone: () => {
        gone = true;
        log('err', `fuse: the kernel ended the connection of ${mountDir}`);
        o.onGone?.();
      },
    },
    MAX_WRITE,
  );
  session.start();
  const stopPressureWatch = watchCpuPressure((roomy) => session.spinHasRoom(roomy));
  return Promise.resolve({
    unmount: () => {
      stopPressureWatch();
      cache.stop();
      session.stop();
      if (gone) {
        dev.close(); // unmounted from outside already
        return Promise.resolve();
      }
      const r = dev.unmount();
      return r < 0 ? Promise.reject(new Error(`unmount of ${mountDir} failed: errno ${-r}`)) : Promise.resolve();
    },
  });
}
