/** Start-up preparation outside the mount: the www-data group (the mount point: mount-point.ts). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
