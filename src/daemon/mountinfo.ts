/**
 * /proc/self/mountinfo, parsed (pure): the mounts stacked at one path, the visible one last. Read
 * from procfs, never from the mount itself, so a dead or hung mount cannot block the reader.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface MountEntry {
  mountId: number;
  /** Device of the mounted file system; for FUSE, minor (with major 0) is the connection number. */
  major: number;
  minor: number;
  mountPoint: string;
  /** File system type (fuse, fuse.sshfs, tmpfs, ext4, ...). */
  fstype: string;
  source: string;
  superOptions: string;
}

/** Undoes the octal escapes (\040 for a space, ...) of mountinfo fields. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

function parseLine(line: string): MountEntry | undefined {
  const f = line.split(' ');
  const sep = f.indexOf('-', 6);
  if (f.length < 7 || sep < 0) return undefined;
  const dev = /^(\d+):(\d+)$/.exec(f[2] ?? '');
  if (dev === null) return undefined;
  return {
    mountId: Number(f[0]),
    major: Number(dev[1]),
    minor: Number(dev[2]),
    mountPoint: unescapeMountField(f[4]!),
    fstype: f[sep + 1] ?? 'unknown',
    source: unescapeMountField(f[sep + 2] ?? ''),
    superOptions: f[sep + 3] ?? '',
  };
}

/** Every mount exactly at `dir`, in mount order: the last one is the one a path lookup sees. */
export function mountsAt(mountinfo: string, dir: string): MountEntry[] {
  const target = resolve(dir);
  const out: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const e = parseLine(line);
    if (e !== undefined && e.mountPoint === target) out.push(e);
  }
  return out;
}

/** The visible mount at `dir`, or undefined when nothing is mounted exactly there. */
export function topMountAt(mountinfo: string, dir: string): MountEntry | undefined {
  const all = mountsAt(mountinfo, dir);
  return all[all.length - 1];
}

/** Whether something is mounted exactly at `dir` in this process's mount namespace (never touches the mount). */
export function isMountPoint(dir: string): boolean {
  return mountsAt(readMountinfo(), dir).length > 0;
}

/** This process's /proc/self/mountinfo; empty when it cannot be read. */
export function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

export function isFuse(e: MountEntry): boolean {
  return e.fstype === 'fuse' || e.fstype === 'fuseblk' || e.fstype.startsWith('fuse.');
}

/** The kernel's number of a FUSE connection (what /proc/PID/fdinfo shows as fuse_connection). */
export function fuseConnectionId(e: MountEntry): number {
  return e.major * 2 ** 20 + e.minor; // the kernel's dev_t: 20 minor bits
}

/** One line an operator can act on: "fuse /dev/fuse at /etc/pve (device 0:49, rw,user_id=0,...)". */
export function describeMount(e: MountEntry): string {
  return `${e.fstype} ${e.source} at ${e.mountPoint} (device ${e.major}:${e.minor}, ${e.superOptions})`;
}
