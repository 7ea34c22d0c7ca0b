/**
 * corosync.conf handling, the shell part (spec §9): copy the tree's `corosync.conf` to the host
 * file when its config_version is not older, atomically (temp file + rename, 0644), and — when
 * reloading is allowed and the old file had a version — run `corosync-cfgtool -R` one second later,
 * asynchronously. The decision itself is the pure decideCorosyncConfUpdate().
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { COROSYNC_CONF_PATH, HOST_COROSYNC_CONF, decideCorosyncConfUpdate } from '../dcdb/corosync-conf';
import type { MemDb } from '../memdb/memdb';
import type { Logger } from './logger';

/** Runs the reload command; resolves with its exit code (or -1 when it could not be started). */
export type ReloadRunner = () => Promise<number>;

export interface CorosyncConfSyncOptions {
  memdb: MemDb;
  logger: Logger;
  /** The host file (default /etc/corosync/corosync.conf). */
  hostPath?: string;
  /** Delay before the reload (spec: 1 s). */
  reloadDelayMs?: number;
  runReload?: ReloadRunner;
}

/** `corosync-cfgtool -R`, output discarded, never blocking the event loop. */
export const runCorosyncCfgtoolReload: ReloadRunner = () =>
  new Promise((resolve) => {
    execFile('corosync-cfgtool', ['-R'], { timeout: 30_000 }, (err) => {
      if (err === null) return resolve(0);
      const code = (err as { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : -1);
    });
  });

/** Writes `data` over `file` atomically: a temporary file next to it, fsync, rename. */
export function writeFileAtomic(file: string, data: Buffer, mode = 0o644): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    fchmodSync(fd, mode); // the daemon's umask (027) must not narrow it
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    try {
      chownSync(tmp, 0, 0);
    } catch {
      // not root (tests): keep the owner we have
    }
    renameSync(tmp, file);
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

export class CorosyncConfSync {
  readonly hostPath: string;
  private readonly reloadDelayMs: number;
  private readonly runReload: ReloadRunner;
  private readonly reloadTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Exit code of the last reload run (for the status snapshot). */
  lastReloadExitCode: number | undefined;

  constructor(private readonly o: CorosyncConfSyncOptions) {
    this.hostPath = o.hostPath ?? HOST_COROSYNC_CONF;
    this.reloadDelayMs = o.reloadDelayMs ?? 1000;
    this.runReload = o.runReload ?? runCorosyncCfgtoolReload;
  }

  /**
   * Runs the §9 procedure once. Returns true when the host file was written. Never throws: a file
   * that cannot be written is logged (the cluster keeps running on the old config).
   */
  sync(reloadAllowed: boolean): boolean {
    if (this.stopped) return false;
    const entry = this.o.memdb.lookup(COROSYNC_CONF_PATH);
    const data = entry?.data ?? null;
    const newText = data === null ? undefined : data.toString('utf8');
    let oldText: string | undefined;
    try {
      oldText = readFileSync(this.hostPath, 'utf8');
    } catch {
      oldText = undefined;
    }
    const decision = decideCorosyncConfUpdate(newText, oldText, reloadAllowed);
    const log = (prio: 'crit' | 'notice' | 'warning' | 'err', line: string): void =>
      this.o.logger.log('dcdb', prio, line.split(HOST_COROSYNC_CONF).join(this.hostPath));
    if (!decision.write) {
      for (const line of decision.log) log(line.prio, line.text);
      return false;
    }
    try {
      writeFileAtomic(this.hostPath, data!);
    } catch (e) {
      log('crit', `unable to write new corosync config '${HOST_COROSYNC_CONF}': ${(e as Error).message}`);
      return false;
    }
    for (const line of decision.log) log(line.prio, line.text);
    if (decision.reload) this.scheduleReload();
    return true;
  }

  /** Cancels pending reloads; later sync() calls do nothing. */
  stop(): void {
    this.stopped = true;
    for (const t of this.reloadTimers) clearTimeout(t);
    this.reloadTimers.clear();
  }

  private scheduleReload(): void {
    const timer = setTimeout(() => {
      this.reloadTimers.delete(timer);
      if (this.stopped) return;
      void this.runReload().then((code) => {
        this.lastReloadExitCode = code;
        if (code === 0) this.o.logger.log('dcdb', 'notice', 'corosync-cfgtool -R: corosync config reloaded');
        else this.o.logger.log('dcdb', 'crit', `corosync-cfgtool -R failed with exit code ${code}`);
      });
    }, this.reloadDelayMs);
    this.reloadTimers.add(timer);
  }
}
