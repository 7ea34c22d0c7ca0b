import { describe, expect, it } from 'vitest';
import { parseConfigVersion, parseNodeNames, renderCorosyncConf } from '../../../lab/corosync-conf';
import { nodeAddress } from '../../../lab/subnets';

const nodesOf = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, nodeid: i + 1, ip: nodeAddress('172.30.213.0/24', i + 1) }));
const BASE_NODES = nodesOf(3);
const ALL_NODES = nodesOf(4);
import { maxTreeVersion, parseMembers, splitSections } from '../../../lab/node-status';

describe('lab corosync.conf', () => {
  it('lists the nodes by name with ids and fixed addresses', () => {
    const text = renderCorosyncConf({ clusterName: 'pmxcfs-lab', configVersion: 1, nodes: BASE_NODES });
    expect(parseNodeNames(text)).toEqual(['node1', 'node2', 'node3']);
    expect(text).toContain('    nodeid: 2\n');
    expect(text).toContain('    ring0_addr: 172.30.213.13\n');
    expect(text).toContain('  transport: knet\n');
    expect(text).toContain('  cluster_name: pmxcfs-lab\n');
    expect(text).not.toMatch(/consensus/); // corosync refuses one below 1.2 x the effective token
  });

  it('carries config_version the way pmxcfs parses it', () => {
    const text = renderCorosyncConf({ clusterName: 'c', configVersion: 7, nodes: ALL_NODES });
    expect(parseConfigVersion(text)).toBe(7);
    expect(parseNodeNames(text)).toHaveLength(4);
    expect(parseConfigVersion('totem {\n}\n')).toBe(0);
    expect(parseConfigVersion('config_version:12\nconfig_version: 13')).toBe(12); // first match
  });

  it('prefers name over ring0_addr in the nodelist', () => {
    expect(parseNodeNames('nodelist {\n node {\n ring0_addr: 10.0.0.1\n }\n node {\n name: b\n ring0_addr: 10.0.0.2\n }\n}')).toEqual([
      '10.0.0.1',
      'b',
    ]);
  });
});

describe('lab node probe parsing', () => {
  it('splits marker sections', () => {
    const s = splitSections('@@a\nx\ny\n@@b\n@@c\nz\n');
    expect(s.get('a')).toBe('x\ny');
    expect(s.get('b')).toBe('');
    expect(s.get('c')).toBe('z');
  });

  it('takes the highest counter of .version, ignoring starttime', () => {
    const v = '{\n"starttime": 1716890000,\n"clinfo": 6,\n"vmlist": 3,\n"corosync.conf": 9,\n"kvstore": {\n"node1": {\n"tasklist": 12}\n}\n}\n';
    expect(maxTreeVersion(v)).toBe(12);
    expect(maxTreeVersion('{}')).toBeNull();
  });

  it('reads the daemon view of quorum from .members', () => {
    expect(parseMembers('{\n"nodename": "node1",\n"version": 0\n}\n')).toEqual({ quorate: null, mode: 'local' });
    expect(
      parseMembers('{"nodename":"node1","version":7,"cluster":{"name":"c","version":3,"nodes":3,"quorate":1},"nodelist":{}}'),
    ).toEqual({ quorate: true, mode: 'cluster' });
    expect(parseMembers('garbage')).toEqual({ quorate: null, mode: null });
  });
});
