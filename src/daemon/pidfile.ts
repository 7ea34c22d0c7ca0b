/** The pid file (spec §1): /var/run/pve-cluster.pid for the default database, else <dbdir>/pmxcfs.pid. */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_DB } from './options';

export function pidFilePath(db: string): string {
  return resolve(db) === DEFAULT_DB ? '/var/run/pve-cluster.pid' : join(dirname(resolve(db)), 'pmxcfs.pid');
}

/** Atomic write (temporary file + rename), mode 0644 whatever the umask (the daemon runs with 027). */
export function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.tmp.${process.pid}`;
  writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  try {
    chmodSync(tmp, 0o644);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
