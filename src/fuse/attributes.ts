/**
 * File attributes and the permission model of spec §8.2. Nothing is stored: modes are computed
 * from the kind of entry, whether the path is private and whether the node is quorate.
 */
import { isPrivatePath } from '../memdb/paths';

/** The file-type bits of a mode. */
export const S_IFMT = 0o170000;
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
  if (kind === 'file') base = (quorate ? 0o666 : 0o444) | (isOpenvzScriptName(baseName(path)) ? 0o100 : 0);
  else base = quorate ? 0o777 : 0o555;
  if (kind !== 'link' && isPrivatePath(path)) return base & 0o700;
  return kind === 'file' ? base & 0o750 : base & 0o755;
}

const OPENVZ_SCRIPT_SUFFIXES = new Set(['mount', 'umount', 'start', 'stop', 'premount', 'postumount']);

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A legacy OpenVZ action script name, `<digits>.<action>` (first digit 1-9) or `vps.<action>`:
 * the reference adds the owner's execute bit to such files wherever they are.
 */
export function isOpenvzScriptName(name: string): boolean {
  const c = name.charCodeAt(0); // most names fail here, before the regular expression
  if (!(c >= 0x31 && c <= 0x39) && !name.startsWith('vps.')) return false;
  const m = /^(?:vps|[1-9][0-9]*)\.(.*)$/s.exec(name);
  return m !== null && OPENVZ_SCRIPT_SUFFIXES.has(m[1]!);
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
  /**
   * True for virtual entries (status files, the four symlinks): they occupy no blocks (st_blocks 0,
   * as the reference's function and link plugins leave it); memdb entries count ceil(size / 4096).
   */
  virtual?: boolean;
}

/**
 * The attributes PveFs reports; kernel-ops.ts adds the node id as inode number and the kernel's
 * fuse_attr gets atime = ctime = mtime (whole seconds, the only time pmxcfs stores).
 */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  blksize: number;
  blocks: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export function buildStat(a: AttrInput): FuseStat {
  const type = a.kind === 'dir' ? S_IFDIR : a.kind === 'link' ? S_IFLNK : S_IFREG;
  return {
    mode: type | a.perm,
    uid: 0,
    gid: a.gid,
    size: a.size,
    nlink: a.kind === 'dir' ? 2 : 1,
    blksize: ATTR_BLOCK_SIZE,
    blocks: a.virtual === true ? 0 : Math.ceil(a.size / ATTR_BLOCK_SIZE),
    mtime: a.mtime,
  };
}
