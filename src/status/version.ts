/**
 * `.version` (spec §8.4, also IPC op 1): version counters that tools poll for cache invalidation.
 * Layout follows the reference byte for byte, including its odd `}\n,\n` between node blocks.
 */

/** One node's block in the kvstore section: key and version, never `rrd/*` or `nodeip`. */
export interface KvstoreVersions {
  node: string;
  keys: [string, number][];
}

export interface VersionStatus {
  /** Daemon start time, seconds since the epoch. */
  starttime: number;
  /** Cluster-info (membership/config) change counter. */
  clinfo: number;
  /** VMID list change counter. */
  vmlist: number;
  /** Observed-path counters in their fixed order (ObservedPathVersions.entries()). */
  paths: [string, number][];
  /** Local node first (always present), then each node that has a kv table. */
  kvstore: KvstoreVersions[];
}

function renderNodeBlock(block: KvstoreVersions): string {
  const keys = block.keys.map(([key, version]) => `"${key}": ${version >>> 0}`).join(',\n');
  return `"${block.node}": {\n${keys}}\n`;
}

export function renderVersion(s: VersionStatus): string {
  let out = '{\n';
  out += `"starttime": ${Math.max(0, Math.floor(s.starttime))},\n`;
  out += `"clinfo": ${s.clinfo >>> 0},\n`;
  out += `"vmlist": ${s.vmlist >>> 0},\n`;
  for (const [path, version] of s.paths) out += `"${path}": ${version >>> 0},\n`;
  out += '"kvstore": {\n';
  out += s.kvstore.map(renderNodeBlock).join(',\n');
  out += '}\n';
  out += '}\n';
  return out;
}
