/**
 * Finds the daemon that serves a mount point, for `pmxcfs-ts status --mount DIR` when the control
 * socket it was pointed at does not answer: the FUSE mount at DIR (mountinfo), the processes holding
 * its connection (fdinfo), and the control socket each one's command line implies (--control-socket,
 * else beside its --db). Only procfs is read, never the mount.
 */
import { readFile } from 'node:fs/promises';
import { controlSocketPath } from '../daemon/control-protocol';
import { daemonOptionsOf, findFuseServers, type FuseServer } from '../daemon/fuse-servers';
import { fuseConnectionId, isFuse, topMountAt } from '../daemon/mountinfo';

export interface MountServer {
  server: FuseServer;
  /** Its control socket, when its command line is that of a pmxcfs-ts daemon. */
  socket: string | undefined;
  /** The mount point its command line names (to check it is this one). */
  mount: string | undefined;
}

/** The processes serving the FUSE mount at `dir` (none when it is not a FUSE mount). */
export async function serversOfMount(dir: string): Promise<MountServer[]> {
  let info = '';
  try {
    info = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const top = topMountAt(info, dir);
  if (top === undefined || !isFuse(top)) return [];
  return findFuseServers(fuseConnectionId(top)).map((server) => {
    const o = daemonOptionsOf(server);
    return { server, socket: o === undefined ? undefined : (o.controlSocket ?? controlSocketPath(o.db)), mount: o?.mount };
  });
}
