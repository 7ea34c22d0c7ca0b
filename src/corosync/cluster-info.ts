/**
 * The cluster description corosync's cmap holds (spec §7, confdb): totem.cluster_name (required),
 * totem.config_version (u64, optional, 0 when absent) and nodelist.node.<i>.{nodeid, quorum_votes,
 * name, ring0_addr}. Pure: it reads through a lookup function, so tests need no corosync.
 */
import type { CmapValue } from './libcmap';

export interface ClusterNode {
  nodeid: number;
  /** nodelist name, or ring0_addr when the node has no name. */
  name: string;
  votes: number;
}

export interface ClusterInfo {
  clusterName: string;
  configVersion: number;
  /** Sorted by nodeid. */
  nodes: ClusterNode[];
}

export const NODELIST_PREFIX = 'nodelist.node.';

export interface ClusterInfoResult {
  info: ClusterInfo | null;
  /** What was wrong or skipped (one line each); info is null when the cluster name is missing. */
  problems: string[];
}

function asNumber(value: CmapValue | undefined): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return null;
}

/**
 * @param keys every key under NODELIST_PREFIX
 * @param get a key's value, undefined when absent
 */
export function readClusterInfo(keys: string[], get: (key: string) => CmapValue | undefined): ClusterInfoResult {
  const problems: string[] = [];
  const clusterName = get('totem.cluster_name');
  const versionValue = get('totem.config_version');
  let configVersion = 0;
  if (versionValue !== undefined) {
    const parsed = asNumber(versionValue);
    if (parsed === null) problems.push(`totem.config_version has an unusable value ${String(versionValue)}`);
    else configVersion = parsed;
  }

  const indexes = new Set<string>();
  for (const key of keys) {
    const match = /^nodelist\.node\.(\d+)\./.exec(key);
    if (match) indexes.add(match[1]!);
  }
  const nodes: ClusterNode[] = [];
  for (const index of [...indexes].sort((a, b) => Number(a) - Number(b))) {
    const base = `${NODELIST_PREFIX}${index}.`;
    const nodeid = asNumber(get(`${base}nodeid`));
    if (nodeid === null || nodeid === 0) {
      problems.push(`${base}nodeid missing or invalid: node skipped`);
      continue;
    }
    const votesValue = get(`${base}quorum_votes`);
    const votes = votesValue === undefined ? 1 : asNumber(votesValue);
    const name = get(`${base}name`) ?? get(`${base}ring0_addr`);
    if (typeof name !== 'string' || name === '') {
      problems.push(`${base} has neither name nor ring0_addr: node skipped`);
      continue;
    }
    if (votes === null) {
      problems.push(`${base}quorum_votes invalid: node skipped`);
      continue;
    }
    nodes.push({ nodeid, name, votes });
  }
  nodes.sort((a, b) => a.nodeid - b.nodeid);

  if (typeof clusterName !== 'string' || clusterName === '') {
    problems.push('totem.cluster_name missing');
    return { info: null, problems };
  }
  return { info: { clusterName, configVersion, nodes }, problems };
}
