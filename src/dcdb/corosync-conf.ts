/**
 * corosync.conf handling (spec §9), the pure part: parse `config_version` and decide what to do
 * with the copy in the tree versus the host file. The shell reads and writes the files, sleeps
 * and runs `corosync-cfgtool -R`.
 */

/** The path of the cluster-wide copy inside the tree. */
export const COROSYNC_CONF_PATH = 'corosync.conf';
/** The host file it is synchronised to. */
export const HOST_COROSYNC_CONF = '/etc/corosync/corosync.conf';

/** First `config_version\s*:\s*(\d+)`; 0 when absent (the reference treats 0 as unparsable). */
export function parseConfigVersion(text: string): number {
  const m = /config_version\s*:\s*(\d+)/.exec(text);
  if (m === null) return 0;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : 0;
}

/** A line for the daemon log, with the reference's priority (its refusals are `crit`). */
export interface CorosyncConfLogLine {
  prio: 'crit' | 'notice';
  text: string;
}

export interface CorosyncConfDecision {
  /** Write `newText` atomically over the host file (root:root 0644). */
  write: boolean;
  /** After writing, wait 1 s and run `corosync-cfgtool -R`. */
  reload: boolean;
  log: CorosyncConfLogLine[];
}

/**
 * `newText` = corosync.conf from the tree (undefined/empty: nothing to do); `oldText` = the host
 * file (undefined when absent). `reloadAllowed`: start-up and locally originated changes yes,
 * changes from other nodes and sync commits no.
 */
export function decideCorosyncConfUpdate(
  newText: string | undefined,
  oldText: string | undefined,
  reloadAllowed = true,
): CorosyncConfDecision {
  const nothing = (log: CorosyncConfLogLine[] = []): CorosyncConfDecision => ({ write: false, reload: false, log });
  if (newText === undefined || newText.length === 0) return nothing();
  const newVersion = parseConfigVersion(newText);
  if (newVersion === 0) return nothing([{ prio: 'crit', text: 'unable to parse cluster config_version' }]);
  const oldVersion = oldText === undefined ? 0 : parseConfigVersion(oldText);
  if (oldText !== undefined && oldText === newText) return nothing();
  if (newVersion < oldVersion) {
    return nothing([{ prio: 'crit', text: `local corosync.conf is newer (version ${oldVersion} > ${newVersion}) - keeping it` }]);
  }
  return {
    write: true,
    reload: reloadAllowed && oldVersion !== 0,
    log: [{ prio: 'notice', text: `wrote new corosync config '${HOST_COROSYNC_CONF}' (version = ${newVersion})` }],
  };
}
