/**
 * Where the daemon chooses what applies changes (spec §1, §7). Cluster mode = the database holds
 * corosync.conf and -l was not given; local mode otherwise.
 */
import type { MemDb } from '../memdb/memdb';
import { LocalBackend, type BackendContext, type FsBackend } from './backend';

export type { BackendContext } from './backend';
import { ClusterBackend, clusterTuningFromEnv } from './cluster-backend';
import { LocalStatusSource } from './local-status';
import type { Logger } from './logger';

export type FsMode = 'local' | 'cluster';

/** A running backend and how to stop it (leave CPG, finalize corosync handles, ...). */
export interface RunningBackend {
  backend: FsBackend;
  stop(): Promise<void>;
}

export function decideMode(memdb: MemDb, forceLocal: boolean, logger: Logger): FsMode {
  const hasCorosyncConf = memdb.lookup('corosync.conf') !== undefined;
  if (hasCorosyncConf && forceLocal) logger.log('main', 'notice', 'forcing local mode (although corosync.conf exists)');
  return hasCorosyncConf && !forceLocal ? 'cluster' : 'local';
}

export function createLocalBackend(ctx: BackendContext): RunningBackend {
  const status = new LocalStatusSource(ctx.memdb, ctx.nodename, ctx.starttime, ctx.clock, {
    rrd: ctx.rrd,
    log: (prio, msg) => ctx.logger.log('status', prio, msg),
  });
  return { backend: new LocalBackend(ctx.memdb, status, ctx.clock, ctx.nodename), stop: async () => {} };
}

/**
 * THE place where the cluster backend (dcdb + kvstore over corosync CPG, quorum, cmap) is created.
 * The services start before corosync may be up and keep retrying by themselves.
 */
export async function createClusterBackend(ctx: BackendContext): Promise<RunningBackend> {
  const backend = new ClusterBackend({
    memdb: ctx.memdb,
    nodename: ctx.nodename,
    starttime: ctx.starttime,
    clock: ctx.clock,
    logger: ctx.logger,
    hostCorosyncConf: ctx.hostCorosyncConf,
    rrd: ctx.rrd,
    ...clusterTuningFromEnv(),
  });
  backend.start();
  return { backend, stop: () => backend.stop() };
}

export async function createBackend(mode: FsMode, ctx: BackendContext): Promise<RunningBackend> {
  return mode === 'cluster' ? createClusterBackend(ctx) : createLocalBackend(ctx);
}
