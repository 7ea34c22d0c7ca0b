/**
 * File attributes and the permission model of spec §8.2. Nothing is stored: modes are computed
 * from the kind of entry, whether the path is private and whether the node is quorate.
 */
import { isPrivatePath } from '../memdb/paths';

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** st_blocks is reported in 4 KiB units, as the reference does (a 1 MiB file shows 256). */
export const ATTR_BLOCK_SIZE = 4096;

export type AttrKind = 'dir' | 'file' | 'link';

/** Permission bits (no type bits) of a memdb entry or virtual symlink. */
export function permissionBits(kind: AttrKind, path: string, quorate: boolean): number {
  if (path === '') return 0o755; // the root directory is always 0777 & 0755
  let base: number;
  if (kind === 'file') base = quorate ? 0o666 : 0o444;
  else base = quorate ? 0o777 : 0o555;
  if (kind !== 'link' && isPrivatePath(path)) return base & 0o700;
  return kind === 'file' ? base & 0o750 : base & 0o755;
}

/** The one mode chmod accepts (as a no-op) on a path; anything else is EPERM (spec §8.2). */
export function acceptedChmodMode(path: string): number {
  return isPrivatePath(path) ? 0o600 : 0o640;
}

export interface AttrInput {
  kind: AttrKind;
  /** Permission bits, without the type. */
  perm: number;
  size: number;
  /** Seconds since the epoch; atime = ctime = mtime. */
  mtime: number;
  gid: number;
}

/** The attributes PveFs reports; kernel-ops.ts turns them into the kernel's fuse_attr (whole seconds). */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
}

export function buildStat(a: AttrInput): FuseStat {
  const type = a.kind === 'dir' ? S_IFDIR : a.kind === 'link' ? S_IFLNK : S_IFREG;
  const time = new Date(a.mtime * 1000);
  return {
    mode: type | a.perm,
    uid: 0,
    gid: a.gid,
    size: a.size,
    dev: 0,
    nlink: a.kind === 'dir' ? 2 : 1,
    ino: 0,
    rdev: 0,
    blksize: ATTR_BLOCK_SIZE,
    blocks: Math.ceil(a.size / ATTR_BLOCK_SIZE),
    atime: time,
    mtime: time,
    ctime: time,
  };
}
