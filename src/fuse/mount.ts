/**
 * Glue between fuse-native (libfuse 2, multi-threaded loop handing every call to the JS thread)
 * and PveFs. Mount options as the reference: default_permissions, allow_other, big_writes; plus
 * direct_io (the reference sets it per open, fuse-native cannot) and hard_remove (unlink of an open
 * file must not become a replicated rename to .fuse_hidden*).
 */
import Fuse from '@cocalc/fuse-native';
import { Errno } from '../memdb/errno';
import type { PveFs } from './pve-fs';

export type FuseLog = (level: 'err' | 'debug', msg: string) => void;

/** Extra libfuse options that fuse-native has no switch for. */
const EXTRA_OPTIONS = ['big_writes', 'direct_io', 'hard_remove'];

/** libfuse's UTIME_NOW/UTIME_OMIT arrive through fuse-native as 1073 ms (tv_sec 0, huge tv_nsec). */
const UTIME_SPECIAL_MS = 1073;

/** Largest mtime the tree, config.db and the wire can hold (u32 seconds). */
const MAX_U32 = 0xffffffff;

/**
 * Whole seconds for the MTIME operation, clamped to the u32 range like Linux clamps times to what a
 * file system can store (the reference truncates the time_t to 32 bits instead: 2^32 s would become
 * 0). Unclamped, a far-future time was kept in RAM but read back from config.db masked to 32 bits.
 */
export function secondsFromFuseTime(t: Date | number, now: number): number {
  const ms = typeof t === 'number' ? t : t.getTime();
  if (ms === UTIME_SPECIAL_MS) return now;
  const s = Math.floor(ms / 1000);
  return Number.isFinite(s) ? Math.min(MAX_U32, Math.max(0, s)) : now;
}

/**
 * fuse-native hands paths over as JS strings decoded from UTF-8, with every invalid byte sequence
 * replaced by U+FFFD: "a\xff" and "a\xfe" would both become "a\uFFFD" and share one file. New
 * names with U+FFFD are therefore refused with EILSEQ (as ZFS with utf8only does); existing ones
 * (from a peer or an old database) stay readable and writable.
 */
export function isUndecodableName(path: string): boolean {
  return path.includes('\uFFFD');
}

export interface MountedFs {
  unmount(): Promise<void>;
}

export function mountPveFs(mountDir: string, fs: PveFs, now: () => number, log: FuseLog): Promise<MountedFs> {
  // Every handler answers through `done`; an exception becomes EIO and a log line, never a crash.
  const guard = <T extends unknown[]>(name: string, fail: (err: number) => void, body: () => T | void): void => {
    try {
      body();
    } catch (e) {
      log('err', `fuse ${name} failed: ${(e as Error).stack ?? String(e)}`);
      fail(-Errno.EIO);
    }
  };
  const settle = (name: string, p: Promise<number>, cb: (r: number) => void): void => {
    p.then((r) => {
      if (r < 0) log('debug', `fuse ${name}: ${r}`);
      cb(r);
    }, (e: unknown) => {
      log('err', `fuse ${name} failed: ${(e as Error).stack ?? String(e)}`);
      cb(-Errno.EIO);
    });
  };
  const errOnly = (r: number): number => (r < 0 ? r : 0);

  const ops: Fuse.OPERATIONS = {
    getattr: (path, cb) =>
      guard('getattr', cb, () => {
        const st = fs.getattr(path);
        if (typeof st === 'number') cb(st);
        else cb(0, st as Fuse.Stats);
      }),
    fgetattr: (path, _fd, cb) =>
      guard('fgetattr', cb, () => {
        const st = fs.getattr(path);
        if (typeof st === 'number') cb(st);
        else cb(0, st as Fuse.Stats);
      }),
    readdir: (path, cb) =>
      guard('readdir', cb, () => {
        const names = fs.readdir(path);
        if (typeof names === 'number') cb(names);
        else cb(0, names);
      }),
    readlink: (path, cb) =>
      guard('readlink', cb, () => {
        const target = fs.readlink(path);
        if (typeof target === 'number') cb(target);
        else cb(0, target);
      }),
    statfs: (_path, cb) => guard('statfs', cb, () => cb(0, fs.statfs())),
    open: (path, _flags, cb) =>
      guard('open', cb, () => {
        const h = fs.open(path);
        if (h < 0) cb(h);
        else cb(0, h);
      }),
    create: (path, _mode, cb) =>
      isUndecodableName(path) ? cb(-Errno.EILSEQ) : settle('create', fs.create(path), (h) => (h < 0 ? cb(h) : cb(0, h))),
    read: (path, fd, buffer, length, position, cb) =>
      guard('read', cb, () => {
        const data = fs.read(path, fd, position, length);
        if (typeof data === 'number') return cb(data);
        data.copy(buffer, 0, 0, Math.min(length, data.length));
        cb(Math.min(length, data.length));
      }),
    write: (path, _fd, buffer, length, position, cb) =>
      guard('write', cb, () => cb(fs.write(path, position, Buffer.from(buffer.subarray(0, length))))),
    truncate: (path, size, cb) => settle('truncate', fs.truncate(path, size), (r) => cb(errOnly(r))),
    ftruncate: (path, _fd, size, cb) => guard('ftruncate', cb, () => cb(errOnly(fs.ftruncate(path, size)))),
    flush: (path, _fd, cb) => settle('flush', fs.flush(path), (r) => cb(errOnly(r))),
    fsync: (path, _datasync, _fd, cb) => settle('fsync', fs.flush(path), (r) => cb(errOnly(r))),
    release: (path, fd, cb) => settle('release', fs.release(path, fd), (r) => cb(errOnly(r))),
    mkdir: (path, _mode, cb) => (isUndecodableName(path) ? cb(-Errno.EILSEQ) : settle('mkdir', fs.mkdir(path), (r) => cb(errOnly(r)))),
    rmdir: (path, cb) => settle('rmdir', fs.rmdir(path), (r) => cb(errOnly(r))),
    unlink: (path, cb) => settle('unlink', fs.unlink(path), (r) => cb(errOnly(r))),
    rename: (src, dest, cb) =>
      isUndecodableName(dest) ? cb(-Errno.EILSEQ) : settle('rename', fs.rename(src, dest), (r) => cb(errOnly(r))),
    // fuse-native hands over the times in ms (scripts/patch-fuse-native.sh fixes its mtime slot).
    utimens: (path, _atime, mtime, cb) =>
      settle('utimens', fs.utimens(path, secondsFromFuseTime(mtime, now())), (r) => cb(errOnly(r))),
    chmod: (path, mode, cb) => guard('chmod', cb, () => cb(fs.chmod(path, mode))),
    chown: (path, uid, gid, cb) => guard('chown', cb, () => cb(fs.chown(path, uid, gid))),
    link: (_src, _dest, cb) => cb(fs.link()),
    symlink: (_src, _dest, cb) => cb(fs.symlink()),
  };

  const fuse = new Fuse(mountDir, ops, {
    allowOther: true,
    defaultPermissions: 'default_permissions',
    // No per-operation timeout: a cluster write may legitimately wait for the group to sync.
    timeout: false as unknown as number,
  });
  const withOptions = fuse as unknown as { _fuseOptions(): string };
  const baseOptions = withOptions._fuseOptions.bind(fuse);
  withOptions._fuseOptions = () => {
    const base = baseOptions();
    return base === '' ? `-o${EXTRA_OPTIONS.join(',')}` : `${base},${EXTRA_OPTIONS.join(',')}`;
  };

  return new Promise((resolve, reject) => {
    fuse.mount((err) => {
      if (err) return reject(err);
      resolve({
        unmount: () =>
          new Promise<void>((res, rej) => fuse.unmount((e) => (e ? rej(e) : res()))),
      });
    });
  });
}
