/**
 * The /dev/fuse channel: open the device, mount(2) it, read requests and write replies without
 * blocking the event loop, and unmount. The device is opened non-blocking and read from the main
 * thread (libuv polls it), so a request reaches the JS handlers without any thread hand-off.
 * libc is called through koffi: Node has no mount(2), and its fs.readSync throws on EAGAIN, which
 * is the normal case here.
 */
import * as fs from 'node:fs';
import koffi from 'koffi';

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MNT_DETACH = 2;
export const EAGAIN = 11;
export const EINTR = 4;
export const ENODEV = 19;
export const ENOENT = 2;
export const EBUSY = 16;

interface Libc {
  read(fd: number, buf: Buffer, count: number): number;
  write(fd: number, buf: Buffer, count: number): number;
  mount(source: string, target: string, type: string, flags: number, data: string): number;
  umount2(target: string, flags: number): number;
  sched_yield(): number;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc === null) {
    const c = koffi.load('libc.so.6');
    libc = {
      read: c.func('long read(int fd, void *buf, unsigned long count)') as Libc['read'],
      write: c.func('long write(int fd, const void *buf, unsigned long count)') as Libc['write'],
      mount: c.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)') as Libc['mount'],
      umount2: c.func('int umount2(const char *target, int flags)') as Libc['umount2'],
      sched_yield: c.func('int sched_yield(void)') as Libc['sched_yield'],
    };
  }
  return libc;
}

/**
 * Lets another runnable thread of this CPU go first (sched_yield(2)). The session's busy-poll calls
 * it between reads: on a machine with every core busy, the client the spin waits for may be queued
 * behind the spinning daemon on the same core.
 */
export function yieldCpu(): void {
  lib().sched_yield();
}

/** Detaches whatever is mounted at `dir` (umount2 MNT_DETACH, like `umount -l`): 0 or -errno. */
export function detachMount(dir: string): number {
  return lib().umount2(dir, MNT_DETACH) === 0 ? 0 : -koffi.errno();
}

export class MountError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

export interface MountOptions {
  /** Mount options after the fd/rootmode/ids, e.g. allow_other, default_permissions. */
  extra: string[];
}

/** A mounted /dev/fuse connection. */
export class DevFuse {
  private closed = false;

  private constructor(readonly fd: number, readonly mountDir: string) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens /dev/fuse and mounts it at `mountDir` (needs CAP_SYS_ADMIN, as the reference). */
  static mount(mountDir: string, o: MountOptions): DevFuse {
    const fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const data = [`fd=${fd}`, 'rootmode=40000', 'user_id=0', 'group_id=0', ...o.extra].join(',');
    if (lib().mount('/dev/fuse', mountDir, 'fuse', MS_NOSUID | MS_NODEV, data) !== 0) {
      const errno = koffi.errno();
      fs.closeSync(fd);
      throw new MountError(`mount of ${mountDir} failed: errno ${errno}`, errno);
    }
    return new DevFuse(fd, mountDir);
  }

  /** Reads one request into `buf`: its length, or -errno (-EAGAIN when none is waiting). */
  read(buf: Buffer): number {
    if (this.closed) return -ENODEV;
    const n = lib().read(this.fd, buf, buf.length);
    return n >= 0 ? n : -koffi.errno();
  }

  /** Writes one reply; 0 or -errno (ENOENT: the request was interrupted and is gone). */
  write(reply: Buffer): number {
    if (this.closed) return -ENODEV;
    for (;;) {
      const n = lib().write(this.fd, reply, reply.length);
      if (n >= 0) return 0;
      const errno = koffi.errno();
      if (errno !== EINTR) return -errno;
    }
  }

  /** Unmounts (lazily when busy) and closes the device; 0 or -errno of the failed unmount. */
  unmount(): number {
    let r = lib().umount2(this.mountDir, 0) === 0 ? 0 : -koffi.errno();
    if (r === -EBUSY) r = lib().umount2(this.mountDir, MNT_DETACH) === 0 ? 0 : -koffi.errno();
    this.close();
    return r;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
