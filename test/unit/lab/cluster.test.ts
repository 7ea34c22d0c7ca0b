import { describe, expect, it } from 'vitest';
import { blockedPeers, isLeftover, supervisedDaemonExited } from '../../../lab/cluster';
import { cidrRange, freeSubnets, nodeAddress, overlaps } from '../../../lab/subnets';
import { tarOneFile, untarFirstFile } from '../../../lab/tar';
import { demuxBuffer } from '../../../lab/dockerode-client';

describe('lab subnets', () => {
  it('gives node N the address .10+N of its /24', () => {
    expect(nodeAddress('172.30.7.0/24', 1)).toBe('172.30.7.11');
    expect(nodeAddress('172.30.7.0/24', 7)).toBe('172.30.7.17');
    expect(() => nodeAddress('172.30.0.0/16', 1)).toThrow(/not a \/24/);
    expect(() => nodeAddress('172.30.7.0/24', 0)).toThrow(/out of range/);
  });

  it('recognises overlaps between CIDRs of any size', () => {
    expect(cidrRange('172.30.5.0/24')).toEqual([(172 << 24 >>> 0) + (30 << 16) + (5 << 8), (172 << 24 >>> 0) + (30 << 16) + (5 << 8) + 255]);
    expect(overlaps('172.16.0.0/12', '172.30.5.0/24')).toBe(true);
    expect(overlaps('172.30.4.0/24', '172.30.5.0/24')).toBe(false);
    expect(overlaps('fd00::/64', '172.30.5.0/24')).toBe(false); // IPv6 pools are ignored
  });

  it('skips the fixed lab, every subnet in use and anything overlapping one, wrapping from the start offset', () => {
    const free = freeSubnets(['172.17.0.0/16', '172.30.0.0/23', '172.30.250.0/24'], 249);
    expect(free[0]).toBe('172.30.249.0/24');
    expect(free).not.toContain('172.30.250.0/24');
    expect(free).not.toContain('172.30.213.0/24');
    expect(free).not.toContain('172.30.0.0/24');
    expect(free).not.toContain('172.30.1.0/24');
    expect(free[free.length - 1]).toBe('172.30.248.0/24');
    expect(free).toHaveLength(256 - 4);
    expect(freeSubnets(['172.30.0.0/16'])).toEqual([]);
  });

  it('calls a cluster a leftover only when its owner was a process of this host that is gone', () => {
    const s = (owner: string) => ({ name: 'x', space: 's', owner, created: 0, nodes: 1 });
    const alive = (pid: number): boolean => pid === 10;
    expect(isLeftover(s('h:11'), 'h', alive)).toBe(true);
    expect(isLeftover(s('h:10'), 'h', alive)).toBe(false);
    expect(isLeftover(s('other:11'), 'h', alive)).toBe(false);
    expect(isLeftover(s('persistent'), 'h', alive)).toBe(false);
  });
});

describe('lab tar and log frames', () => {
  it('writes a one-file ustar archive that reads back', () => {
    const body = Buffer.from('x'.repeat(700));
    const tar = tarOneFile('config.db', body, 0o600, 1_700_000_000);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    expect(untarFirstFile(tar)).toEqual(body);
    expect(() => untarFirstFile(Buffer.alloc(1024))).toThrow(/no regular file/);
  });

  it('demultiplexes framed log output and leaves plain text alone', () => {
    const frame = (kind: number, s: string): Buffer => Buffer.concat([Buffer.from([kind, 0, 0, 0, 0, 0, 0, s.length]), Buffer.from(s)]);
    expect(demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demuxBuffer(Buffer.from('plain text log\n'))).toBe('plain text log\n');
  });
});

describe('lab partitions', () => {
  const nodes = [1, 2, 3, 4, 5].map((i) => ({ name: `node${i}`, ip: `10.0.0.${i}` }));

  it('blocks, for each node, exactly the addresses of the other groups', () => {
    const b = blockedPeers(nodes, [['node1', 'node2'], ['node3', 'node4', 'node5']]);
    expect(b.get('node1')).toEqual(['10.0.0.3', '10.0.0.4', '10.0.0.5']);
    expect(b.get('node4')).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('puts the nodes named nowhere together in one more group', () => {
    const b = blockedPeers(nodes, [['node3']]);
    expect(b.get('node3')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5']);
    expect(b.get('node1')).toEqual(['10.0.0.3']);
    expect(blockedPeers(nodes, []).get('node2')).toEqual([]); // no groups: everyone together (a heal)
    expect(blockedPeers(nodes, [['node1'], ['node2']]).get('node5')).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('refuses unknown nodes and a node in two groups', () => {
    expect(() => blockedPeers(nodes, [['node9']])).toThrow(/unknown node "node9"/);
    expect(() => blockedPeers(nodes, [['node1'], ['node1', 'node2']])).toThrow(/node1 is in two groups/);
  });
});

describe('the entrypoint daemon\'s exit in a container log', () => {
  const start = '[lab-entrypoint] starting pmxcfs-ts -f --mount /etc/pve --db /var/lib/pve-cluster/config.db --nodename node2';
  const exit = '[lab-entrypoint] pmxcfs-ts exited with status 137 (not restarted)';

  it('counts an exit after the last start', () => {
    expect(supervisedDaemonExited([start, 'node2 pmxcfs-ts[20]: [main] notice: started', exit].join('\n'))).toBe(true);
    expect(supervisedDaemonExited(['corosync lines', exit].join('\n'))).toBe(true); // its start scrolled out
  });

  it('ignores an exit of a previous container run once the entrypoint starts the daemon again', () => {
    const log = [start, exit, '[lab-entrypoint] SIGTERM: shutting down', '[lab-entrypoint] stopped', start].join('\n');
    expect(supervisedDaemonExited(log)).toBe(false);
  });

  it('is false without any exit', () => {
    expect(supervisedDaemonExited([start, 'node2 pmxcfs-ts[20]: [main] notice: started'].join('\n'))).toBe(false);
    expect(supervisedDaemonExited('')).toBe(false);
  });
});
