/**
 * RRD keys sent through SET_STATUS `rrd/<key>` (spec §11.2): which file a sample goes to and the
 * update string for rrdtool (live-only columns skipped, older formats padded with U, newer formats
 * cut to the columns this version knows). Pure: the shell creates files and runs the update.
 */

export type RrdKind = 'node' | 'vm' | 'storage';

export interface RrdTarget {
  kind: RrdKind;
  /** File below the RRD directory, e.g. `pve-node-9.0/node1`. */
  file: string;
  /** `<timestamp>:<v1>:...` as rrdtool update wants it. */
  update: string;
}

interface Layout {
  kind: RrdKind;
  legacyPrefix: string;
  newPrefix: string;
  /** Path segments after the prefix (node: 1, vm: 1, storage: 2). */
  segments: number;
  skip: number;
  /** Data sources of the 9.0 format (columns after the timestamp). */
  columns: number;
  /** Columns missing from the legacy format (padded with U). */
  legacyMissing: number;
}

const LAYOUTS: Layout[] = [
  { kind: 'node', legacyPrefix: 'pve2-node/', newPrefix: 'pve-node-', segments: 1, skip: 2, columns: 19, legacyMissing: 7 },
  { kind: 'vm', legacyPrefix: 'pve2.3-vm/', newPrefix: 'pve-vm-', segments: 1, skip: 4, columns: 17, legacyMissing: 7 },
  { kind: 'storage', legacyPrefix: 'pve2-storage/', newPrefix: 'pve-storage-', segments: 2, skip: 0, columns: 2, legacyMissing: 0 },
];

export const RRD_FORMAT_VERSION = '9.0';

function afterSeparators(s: string, count: number, sep: string): string {
  let rest = s;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf(sep);
    if (at < 0) return '';
    rest = rest.slice(at + 1);
  }
  return rest;
}

/** Where `key` (without `rrd/`) goes and what to write, or an error text for unknown/wrong keys. */
export function rrdTargetFor(key: string, data: string): RrdTarget | { error: string } {
  const wrong = { error: `RRD update error: unknown/wrong key ${key}` };
  for (const layout of LAYOUTS) {
    let version: string | undefined;
    let id: string;
    if (key.startsWith(layout.legacyPrefix)) {
      version = undefined;
      id = key.slice(layout.legacyPrefix.length);
    } else if (key.startsWith(layout.newPrefix)) {
      const slash = key.indexOf('/');
      if (slash < 0) return wrong;
      version = key.slice(layout.newPrefix.length, slash);
      if (version === '') return wrong;
      id = key.slice(slash + 1);
    } else {
      continue;
    }
    const parts = id.split('/');
    if (parts.length !== layout.segments || parts.some((p) => p === '')) return wrong;

    const values = afterSeparators(data, layout.skip, ':');
    let fields = values === '' ? [] : values.split(':');
    if (version === undefined) {
      fields = fields.concat(new Array<string>(layout.legacyMissing).fill('U'));
    } else if (version !== RRD_FORMAT_VERSION) {
      fields = fields.slice(0, layout.columns + 1);
    }
    return { kind: layout.kind, file: `pve-${layout.kind}-${RRD_FORMAT_VERSION}/${id}`, update: fields.join(':') };
  }
  return wrong;
}
