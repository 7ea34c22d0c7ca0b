import { describe, expect, it } from 'vitest';
import { readClusterInfo } from '../../../src/corosync/cluster-info';
import type { CmapValue } from '../../../src/corosync/libcmap';

function fromMap(values: Record<string, CmapValue>) {
  const keys = Object.keys(values).filter((k) => k.startsWith('nodelist.node.')).sort();
  return readClusterInfo(keys, (key) => values[key]);
}

describe('readClusterInfo (spec §7 confdb)', () => {
  it('reads name, u64 config_version and the nodelist, preferring name over ring0_addr', () => {
    const result = fromMap({
      'totem.cluster_name': 'prod',
      'totem.config_version': 12n,
      'nodelist.node.0.nodeid': 3,
      'nodelist.node.0.name': 'pve3',
      'nodelist.node.0.ring0_addr': '10.0.0.3',
      'nodelist.node.0.quorum_votes': 1,
      'nodelist.node.1.nodeid': 1,
      'nodelist.node.1.ring0_addr': '10.0.0.1',
      'nodelist.node.1.quorum_votes': 2,
      'nodelist.node.10.nodeid': 2,
      'nodelist.node.10.name': 'pve2',
    });
    expect(result.problems).toEqual([]);
    expect(result.info).toEqual({
      clusterName: 'prod',
      configVersion: 12,
      nodes: [
        { nodeid: 1, name: '10.0.0.1', votes: 2 },
        { nodeid: 2, name: 'pve2', votes: 1 },
        { nodeid: 3, name: 'pve3', votes: 1 },
      ],
    });
  });

  it('treats a missing config_version as 0', () => {
    const result = fromMap({ 'totem.cluster_name': 'c', 'nodelist.node.0.nodeid': 1, 'nodelist.node.0.name': 'a' });
    expect(result.info?.configVersion).toBe(0);
  });

  it('requires the cluster name', () => {
    const result = fromMap({ 'totem.config_version': 1n, 'nodelist.node.0.nodeid': 1, 'nodelist.node.0.name': 'a' });
    expect(result.info).toBeNull();
    expect(result.problems).toContain('totem.cluster_name missing');
  });

  it('skips nodes without a nodeid or without any name, and says so', () => {
    const result = fromMap({
      'totem.cluster_name': 'c',
      'nodelist.node.0.name': 'no-id',
      'nodelist.node.1.nodeid': 5,
      'nodelist.node.2.nodeid': 6,
      'nodelist.node.2.name': 'ok',
    });
    expect(result.info?.nodes).toEqual([{ nodeid: 6, name: 'ok', votes: 1 }]);
    expect(result.problems).toHaveLength(2);
  });

  it('refuses a config_version of the wrong kind without inventing one', () => {
    const result = fromMap({ 'totem.cluster_name': 'c', 'totem.config_version': 'seven' });
    expect(result.info?.configVersion).toBe(0);
    expect(result.problems[0]).toMatch(/config_version/);
  });
});
