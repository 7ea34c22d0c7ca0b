/**
 * Start-up and shutdown of the daemon in the foreground process (spec §1): checks, lock, database,
 * backend, FUSE mount, then serve until SIGTERM/SIGINT; shutdown commits buffered writes, unmounts
 * and closes the database.
 */
import { closeSync, existsSync, mkdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemDb } from '../memdb/memdb';
import { SqliteTreeStore } from '../memdb/sqlite-store';
import { PveFs } from '../fuse/pve-fs';
import { mountPveFs, type MountedFs } from '../fuse/mount';
import { createBackend, decideMode, type RunningBackend } from './backend-factory';
import { createClock } from './clock';
import { importHostCorosyncConf } from './corosync-import';
import { acquireLockFile } from './flock';
import { Logger } from './logger';
import { NO_RRDCACHED, type DaemonOptions } from './options';
import { pidFilePath, writePidFile } from './pidfile';
import { clearRestartFlag, raiseRestartFlag, restartFlagPath } from './restart-flag';
import { ensureWwwDataGroup } from './system-setup';
import { prepareMountPoint } from './mount-point';
import { controlSocketPath } from './control-protocol';
import { startControlServer, type ControlServer } from './control-server';
import { collectNodeStatus } from './control-status';
import { startIpcService, type IpcService } from '../ipc/ipc-service';
import { RrdWriter } from '../rrd/rrd-writer';
import { writeSpans } from '../trace/write-spans';
import { startIdleGc } from './idle-gc';

export class StartupError extends Error {}

/** Runs the daemon; resolves when it has shut down. Throws StartupError when it cannot start. */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  const logger = new Logger(o.nodename, o.debug);
  const daemonized = o.readyFd !== undefined;
  if (daemonized) logger.useSyslog();
  const clock = createClock();
  const starttime = clock();

  const fail = (msg: string): never => {
    logger.log('main', 'crit', msg);
    throw new StartupError(msg);
  };

  let gid = 0;
  try {
    gid = ensureWwwDataGroup();
  } catch (e) {
    fail((e as Error).message);
  }
  process.umask(0o027);

  const dbDir = dirname(o.db);
  mkdirSync(dbDir, { recursive: true, mode: 0o755 });
  const lockFd = await acquireLockFile(join(dbDir, '.pmxcfs.lockfile'), 10, 1000, () =>
    logger.log('main', 'notice', 'unable to acquire pmxcfs lock - trying again'),
  );
  if (lockFd === null) fail(`unable to acquire pmxcfs lock on ${join(dbDir, '.pmxcfs.lockfile')} - another instance running?`);

  let memdb: MemDb | undefined;
  let running: RunningBackend | undefined;
  let mounted: MountedFs | undefined;
  let control: ControlServer | undefined;
  let ipc: IpcService | undefined;
  let rrd: RrdWriter | undefined;
  // Daemonized, the parent wrote it with our pid; in the foreground we write it ourselves (as the reference).
  let pidFileWritten = daemonized;
  let stopIdleGc: () => void = () => {};
  let mountGone: () => void = () => {};
  const mountLost = new Promise<void>((resolve) => (mountGone = resolve));
  const releaseAll = async (): Promise<void> => {
    stopIdleGc();
    ipc?.stop();
    if (control) await control.close();
    if (mounted) await mounted.unmount().catch((e: Error) => logger.log('main', 'err', `unmount failed: ${e.message}`));
    if (running) await running.stop();
    rrd?.close();
    memdb?.close();
    if (lockFd !== null) closeSync(lockFd);
  };

  try {
    const create = !existsSync(o.db);
    let store: SqliteTreeStore;
    try {
      store = SqliteTreeStore.open(o.db, { onCommit: (startMs, endMs) => writeSpans.commit(startMs * 1e6, endMs * 1e6) });
    } catch (e) {
      return fail(`unable to open database '${o.db}': ${(e as Error).message} (file left untouched)`);
    }
    try {
      memdb = MemDb.open(store, clock());
    } catch (e) {
      store.close();
      return fail(`unable to load database '${o.db}': ${(e as Error).message} (file left untouched)`);
    }
    for (const w of memdb.loadWarnings) logger.log('main', 'warning', `loaded anyway: ${w}`);
    if (create && !o.local) {
      const msg = importHostCorosyncConf(memdb, clock(), o.corosyncConf);
      if (msg !== null) logger.log('main', 'notice', msg);
    }
    const mode = decideMode(memdb, o.local, logger);
    // RRD samples from SET_STATUS and from peers are written here (librrd missing: logged, not fatal).
    rrd = new RrdWriter({
      dir: o.rrdDir,
      rrdcachedSocket: o.rrdcachedSocket === NO_RRDCACHED ? null : o.rrdcachedSocket,
      log: (prio, msg) => logger.log('status', prio, msg),
    });
    running = await createBackend(mode, { memdb, nodename: o.nodename, starttime, clock, logger, hostCorosyncConf: o.corosyncConf, rrd });

    const mountError = await prepareMountPoint(o.mount, (msg) => logger.log('main', 'notice', msg));
    if (mountError !== null) fail(mountError);
    const fs = new PveFs({ backend: running.backend, nodename: o.nodename, gid, debug: logger });
    // Listen for SIGTERM/SIGINT before mounting: one that comes while the rest starts up must end in
    // a clean unmount, not in Node's default exit that leaves a dead mount behind.
    const terminated = waitForTermination();
    try {
      // Like the reference, whose FUSE loop then returns: the mount is gone, so the daemon ends.
      mounted = await mountPveFs(o.mount, fs, clock, (level, msg) => logger.log('fuse', level, msg), {
        onGone: () => mountGone(),
        changes: running.backend,
      });
    } catch (e) {
      fail(`fuse mount of '${o.mount}' failed: ${(e as Error).message}`);
    }
    logger.log('main', 'notice', `pmxcfs-ts started in ${mode} mode, mounted at ${o.mount}, database ${o.db}`);
    if (!daemonized) {
      try {
        writePidFile(pidFilePath(o.db), process.pid);
        pidFileWritten = true;
      } catch (e) {
        logger.log('main', 'warning', `unable to write pid file ${pidFilePath(o.db)}: ${(e as Error).message}`);
      }
    }

    // The operator's status socket; the daemon runs on without it if it cannot be made.
    const statusCtx = { backend: running.backend, nodename: o.nodename, mode, mount: o.mount, db: o.db, pid: process.pid, starttime, debug: () => logger.enabled() };
    const socketPath = o.controlSocket ?? controlSocketPath(o.db);
    control = await startControlServer({ path: socketPath, gid, handlers: { status: (n) => collectNodeStatus(statusCtx, clock(), n) } }).catch(
      (e: Error) => {
        logger.log('main', 'err', `control socket ${socketPath} not available: ${e.message}`);
        return undefined;
      },
    );

    // The pve2 IPC service of PVE's tools (spec §10); the daemon runs on without it if it cannot start.
    try {
      ipc = startIpcService({ backend: running.backend, nodename: o.nodename, clock, wwwDataGid: gid, log: (level, msg) => logger.log('ipcs', level, msg) });
    } catch (e) {
      logger.log('main', 'err', `IPC service not available: ${(e as Error).message}`);
    }

    // Up: PVE::IPCC clients stop waiting for a restart (the flag is raised again at shutdown).
    clearRestartFlag(restartFlagPath(o.db));

    const tree = memdb;
    stopIdleGc = startIdleGc(() => tree.version);

    if (daemonized) {
      writeSync(o.readyFd!, '1');
      closeSync(o.readyFd!);
    }

    await Promise.race([terminated, mountLost]);
    const flagError = raiseRestartFlag(restartFlagPath(o.db), gid);
    if (flagError !== null) logger.log('main', 'warning', `unable to create the restart flag: ${flagError}`);
    logger.log('main', 'notice', 'teardown filesystem');
    const flushed = await fs.flushAll();
    if (flushed < 0) logger.log('main', 'err', `committing buffered writes failed (${flushed})`);
  } finally {
    await releaseAll();
    if (pidFileWritten) removeQuietly(pidFilePath(o.db));
  }
  logger.log('main', 'notice', 'exit proxmox configuration filesystem');
}

function waitForTermination(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {});
  });
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
