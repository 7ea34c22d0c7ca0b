/**
 * Start-up checks and preparation outside the mount: the www-data group, the mount point (must
 * not be mounted or busy; created 0750 if missing), and the database directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** gid of `group` from /etc/group, or undefined. */
export function lookupGroupId(group: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === group && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

/** The gid of www-data, creating the group (groupadd --system) when it is missing. */
export function ensureWwwDataGroup(): number {
  const existing = lookupGroupId('www-data');
  if (existing !== undefined) return existing;
  const r = spawnSync('groupadd', ['--system', 'www-data'], { stdio: 'ignore' });
  const gid = lookupGroupId('www-data');
  if (gid === undefined) throw new Error(`group www-data is missing and groupadd failed (status ${r.status})`);
  return gid;
}

/** Unescapes the octal escapes of /proc/self/mountinfo fields. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** True when something is mounted exactly at `dir`. */
export function isMountPoint(dir: string): boolean {
  const target = resolve(dir);
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    const mountPoint = line.split(' ')[4];
    return mountPoint !== undefined && unescapeMountPath(mountPoint) === target;
  });
}

/**
 * Prepares the mount point: refuses when it is mounted (also a stale FUSE mount) or not an empty
 * directory; creates it with mode 0750 when missing. Returns an error message or null.
 */
export function prepareMountPoint(dir: string): string | null {
  if (isMountPoint(dir)) return `mount point '${dir}' is already mounted (another pmxcfs running, or a stale mount: fusermount -uz ${dir})`;
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    return null;
  }
  if (!statSync(dir).isDirectory()) return `mount point '${dir}' is not a directory`;
  if (readdirSync(dir).length > 0) return `mount point '${dir}' is busy: the directory is not empty`;
  return null;
}
