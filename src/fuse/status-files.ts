/**
 * The status ("function") files at the root (spec §8.4): their text, their modes, and the rules
 * for writing `.debug` (exactly "0\n" or "1\n" at offset 0; anything else EIO).
 */
import { Errno } from '../memdb/errno';
import type { StatusSource } from '../daemon/backend';
import type { StatusFileName } from './virtual-entries';

/** Runtime switch for debug logging, shared by `-d` and `/etc/pve/.debug`. */
export interface DebugSwitch {
  enabled(): boolean;
  set(on: boolean): void;
}

export function statusFileMode(name: StatusFileName): number {
  return name === '.debug' ? 0o640 : 0o440;
}

export function renderStatusFile(name: StatusFileName, status: StatusSource, debug: DebugSwitch): Buffer {
  switch (name) {
    case '.version':
      return Buffer.from(status.version());
    case '.members':
      return Buffer.from(status.members());
    case '.vmlist':
      return Buffer.from(status.vmlist());
    case '.clusterlog':
      return Buffer.from(status.clusterLog());
    case '.rrd':
      return Buffer.from(status.rrdDump());
    case '.debug':
      return Buffer.from(debug.enabled() ? '1\n' : '0\n');
  }
}

/** write() on a status file: returns the byte count or -errno. */
export function writeStatusFile(name: StatusFileName, offset: number, data: Buffer, debug: DebugSwitch): number {
  if (name !== '.debug') return -Errno.EIO;
  if (offset !== 0 || data.length < 2 || data[1] !== 0x0a) return -Errno.EIO;
  if (data[0] === 0x30) debug.set(false);
  else if (data[0] === 0x31) debug.set(true);
  else return -Errno.EIO;
  return 2;
}

/** truncate() on a status file: allowed (and a no-op) only on `.debug`. */
export function truncateStatusFile(name: StatusFileName): number {
  return name === '.debug' ? 0 : -Errno.EIO;
}
