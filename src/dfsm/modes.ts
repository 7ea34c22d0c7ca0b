/** DFSM modes (spec §4.2). Values are the reference's; error modes are >= 128 and only escalate. */
export const DfsmMode = {
  START: 0,
  START_SYNC: 1,
  SYNCED: 2,
  UPDATE: 3,
  /** Restartable: leave the group, re-initialise later (empties queues, releases writers). */
  LEAVE: 253,
  /** Not restartable: a peer speaks a newer protocol ("please update this node"). */
  VERSION_ERROR: 254,
  /** Not restartable: local data can no longer be trusted (e.g. memdb errors, failed sync commit). */
  ERROR: 255,
} as const;
export type DfsmModeValue = (typeof DfsmMode)[keyof typeof DfsmMode];

export const DFSM_ERROR_MODE_START = 128;

export function isErrorMode(mode: number): boolean {
  return mode >= DFSM_ERROR_MODE_START;
}

/** LEAVE and the normal modes allow a re-initialisation; ERROR and VERSION_ERROR do not. */
export function isRestartable(mode: number): boolean {
  return mode < DFSM_ERROR_MODE_START || mode === DfsmMode.LEAVE;
}

export function modeName(mode: number): string {
  for (const [name, value] of Object.entries(DfsmMode)) if (value === mode) return name;
  return `MODE_${mode}`;
}

/**
 * The line the reference logs when a DFSM enters `mode` (its spelling, typo included, so that log
 * watchers written for the C daemon work unchanged): notice for the normal modes, critical for the
 * error modes.
 */
export function modeEntryLog(mode: number): { level: 'notice' | 'critical'; message: string } | undefined {
  switch (mode) {
    case DfsmMode.START:
      return { level: 'notice', message: 'start cluster connection' };
    case DfsmMode.START_SYNC:
      return { level: 'notice', message: 'starting data syncronisation' };
    case DfsmMode.SYNCED:
      return { level: 'notice', message: 'all data is up to date' };
    case DfsmMode.UPDATE:
      return { level: 'notice', message: 'waiting for updates from leader' };
    case DfsmMode.LEAVE:
      return { level: 'critical', message: 'leaving CPG group' };
    case DfsmMode.ERROR:
      return { level: 'critical', message: 'serious internal error - stop cluster connection' };
    case DfsmMode.VERSION_ERROR:
      return { level: 'critical', message: 'detected newer protocol - please update this node' };
    default:
      return undefined;
  }
}
