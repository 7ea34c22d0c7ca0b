/**
 * The health verdict of `pmxcfs-ts status` (pure): healthy only when the daemon answers, the mount
 * is there and answers, the database has no error flag, and in cluster mode the node is quorate and
 * no DFSM sits in an error mode. Each problem is one sentence for the operator.
 */
import type { NodeStatus } from '../daemon/control-protocol';
import type { MountProbe } from './mount-probe';

/** Exit statuses of the status command. */
export const EXIT_HEALTHY = 0;
export const EXIT_UNHEALTHY = 1;
export const EXIT_NO_DAEMON = 2;
export const EXIT_USAGE = 64;

/** DFSM modes after which a DFSM does not recover by itself (spec §1 "not restartable"). */
const DFSM_ERROR_MODES = new Set(['ERROR', 'VERSION_ERROR']);

export interface HealthVerdict {
  healthy: boolean;
  exitCode: number;
  problems: string[];
}

export function judgeHealth(status: NodeStatus | null, daemonError: string | null, mount: MountProbe): HealthVerdict {
  const problems: string[] = [];
  if (status === null) problems.push(daemonError ?? 'daemon not answering');
  if (!mount.mounted) problems.push('file system not mounted');
  else if (mount.responsive === false) problems.push(`mount not responsive: ${mount.detail ?? 'no answer'}`);
  else if (mount.fstype !== undefined && !mount.fstype.startsWith('fuse')) problems.push(`mount point holds a ${mount.fstype} file system, not pmxcfs`);
  if (status !== null) {
    if (status.memdbErrors) problems.push('database error flag set: every change fails with EIO (restart the daemon; see docs/recovery.md)');
    if (status.mode === 'cluster') {
      if (!status.quorate) problems.push('cluster mode without quorum: /etc/pve is read-only');
      for (const d of status.dfsm ? [status.dfsm.dcdb, status.dfsm.kvstore] : []) {
        if (DFSM_ERROR_MODES.has(d.mode)) problems.push(`DFSM ${d.group} is in mode ${d.mode} (restart the daemon)`);
      }
    }
  }
  const healthy = problems.length === 0;
  const exitCode = healthy ? EXIT_HEALTHY : status === null ? EXIT_NO_DAEMON : EXIT_UNHEALTHY;
  return { healthy, exitCode, problems };
}
