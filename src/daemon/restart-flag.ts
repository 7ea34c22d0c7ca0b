/**
 * The restart flag (spec §1): made when the daemon shuts down, removed once its IPC service is up.
 * PVE::IPCC, finding no `pve2` server while the flag exists, keeps trying to connect for 10 s, so
 * PVE's tools ride out a restart instead of failing. The reference uses
 * /run/pve-cluster/cfs-restart-flag (0440 root:www-data); with a non-default database the flag lies
 * beside it, so tests never touch the host's flag.
 */
import { chownSync, closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_DB } from './options';

export const DEFAULT_RESTART_FLAG = '/run/pve-cluster/cfs-restart-flag';

export function restartFlagPath(db: string): string {
  const abs = resolve(db);
  return abs === DEFAULT_DB ? DEFAULT_RESTART_FLAG : join(dirname(abs), 'cfs-restart-flag');
}

/** Creates the flag (0440, owner root, group www-data); an error is returned as text, never thrown. */
export function raiseRestartFlag(path: string, gid: number): string | null {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    closeSync(openSync(path, 'a', 0o440));
    chownSync(path, 0, gid);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function clearRestartFlag(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}
