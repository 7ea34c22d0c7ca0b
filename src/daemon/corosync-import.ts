/**
 * A new database started without -l takes the host's /etc/corosync/corosync.conf as its
 * `corosync.conf` (writer 0), so an existing cluster node keeps its cluster config (spec §1).
 */
import { readFileSync } from 'node:fs';
import type { MemDb } from '../memdb/memdb';

export const HOST_COROSYNC_CONF = '/etc/corosync/corosync.conf';

/** Returns a log message of what happened, or null when there was nothing to import. */
export function importHostCorosyncConf(memdb: MemDb, now: number, file = HOST_COROSYNC_CONF): string | null {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return null;
  }
  const origin = { writer: 0, mtime: now };
  const created = memdb.apply({ kind: 'create', path: 'corosync.conf' }, origin, now);
  if (created < 0) return `unable to import ${file}: create failed (${created})`;
  const written = memdb.apply({ kind: 'write', path: 'corosync.conf', offset: 0, data, truncate: true }, origin, now);
  if (written < 0) return `unable to import ${file}: write failed (${written})`;
  return `imported ${file} into the database`;
}
