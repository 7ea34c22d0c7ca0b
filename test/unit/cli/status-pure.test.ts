/** Pure parts of the status command: request parsing, health verdicts, mountinfo, cluster-log lines. */
import { describe, expect, it } from 'vitest';
import { controlSocketPath, parseControlRequest, type NodeStatus } from '../../../src/daemon/control-protocol';
import { parseClusterLog } from '../../../src/daemon/control-status';
import { judgeHealth } from '../../../src/cli/health';
import { findMount } from '../../../src/cli/mount-probe';
import { parseStatusArgs } from '../../../src/cli/status-command';

const mounted = { mounted: true, fstype: 'fuse', responsive: true } as const;

function clusterStatus(over: Partial<NodeStatus> = {}): NodeStatus {
  const dfsm = { group: 'pve_dcdb_v1', mode: 'SYNCED', joined: true, members: [], queued: 0, waiting: 0 };
  return {
    nodename: 'n1', pid: 1, mode: 'cluster', mount: '/etc/pve', db: '/var/lib/pve-cluster/config.db', starttime: 0, now: 0,
    quorate: true, nodeid: 1, version: 5, memdbErrors: false, debug: false, members: [], guests: 0, locks: [], clusterLog: [],
    dfsm: { dcdb: dfsm, kvstore: { ...dfsm, group: 'pve_kvstore_v1' } },
    ...over,
  };
}

describe('control requests', () => {
  it('parses ping and status, refuses everything else with a message', () => {
    expect(parseControlRequest('{"cmd":"ping"}')).toEqual({ ok: true, request: { cmd: 'ping' } });
    expect(parseControlRequest('{"cmd":"status"}')).toEqual({ ok: true, request: { cmd: 'status', logLines: 10 } });
    expect(parseControlRequest('{"cmd":"status","logLines":0}')).toEqual({ ok: true, request: { cmd: 'status', logLines: 0 } });
    for (const bad of ['', 'null', '1', '"x"', '[]', '{}', '{"cmd":"status","logLines":51}', '{"cmd":"status","logLines":1.5}', '{"cmd":1}']) {
      expect(parseControlRequest(bad).ok).toBe(false);
    }
  });

  it('socket path: /run/pve-cluster for the default database, beside any other', () => {
    expect(controlSocketPath('/var/lib/pve-cluster/config.db')).toBe('/run/pve-cluster/pmxcfs-ts.sock');
    expect(controlSocketPath('/tmp/x/config.db')).toBe('/tmp/x/pmxcfs-ts.sock');
  });
});

describe('health verdict', () => {
  it('healthy cluster node: exit 0', () => {
    expect(judgeHealth(clusterStatus(), null, mounted)).toEqual({ healthy: true, exitCode: 0, problems: [] });
  });

  it('cluster mode without quorum, DFSM error modes and the memdb error flag are unhealthy (exit 1)', () => {
    expect(judgeHealth(clusterStatus({ quorate: false }), null, mounted).problems).toEqual(['cluster mode without quorum: /etc/pve is read-only']);
    const s = clusterStatus();
    s.dfsm!.dcdb.mode = 'ERROR';
    s.dfsm!.kvstore.mode = 'VERSION_ERROR';
    const v = judgeHealth(s, null, mounted);
    expect(v.exitCode).toBe(1);
    expect(v.problems).toHaveLength(2);
    expect(judgeHealth(clusterStatus({ memdbErrors: true }), null, mounted).exitCode).toBe(1);
  });

  it('local mode does not need quorum; a missing or hung mount is unhealthy', () => {
    expect(judgeHealth(clusterStatus({ mode: 'local', quorate: true, dfsm: undefined }), null, mounted).healthy).toBe(true);
    expect(judgeHealth(clusterStatus(), null, { mounted: false, responsive: null }).problems).toEqual(['file system not mounted']);
    expect(judgeHealth(clusterStatus(), null, { mounted: true, fstype: 'fuse', responsive: false, detail: 'x' }).exitCode).toBe(1);
    expect(judgeHealth(clusterStatus(), null, { mounted: true, fstype: 'ext4', responsive: true }).exitCode).toBe(1);
  });

  it('no daemon: exit 2 with the client error first', () => {
    const v = judgeHealth(null, 'daemon not running: no control socket at /x', { mounted: false, responsive: null });
    expect(v.exitCode).toBe(2);
    expect(v.problems[0]).toBe('daemon not running: no control socket at /x');
  });
});

describe('mountinfo and cluster log parsing', () => {
  const info = [
    '22 1 0:21 / /proc rw,nosuid - proc proc rw',
    '90 22 0:50 / /etc/pve rw,nosuid,nodev - fuse /dev/fuse rw,user_id=0',
    '91 22 0:51 / /tmp/a\\040b rw - fuse.x /dev/fuse rw',
  ].join('\n');

  it('finds the fstype mounted exactly at a path (octal escapes decoded)', () => {
    expect(findMount(info, '/etc/pve')).toBe('fuse');
    expect(findMount(info, '/etc/pve/')).toBe('fuse');
    expect(findMount(info, '/etc')).toBeUndefined();
    expect(findMount(info, '/tmp/a b')).toBe('fuse.x');
  });

  it('parses .clusterlog lines and keeps an unparsable one as text', () => {
    const text =
      '{\n"data": [\n{"uid": 2, "time": 5, "pri": 3, "tag": "t", "pid": 9, "node": "n1", "user": "root@pam", "msg": "a \\"q\\""},\n' +
      '{"uid": 1, "time": 4, "pri": 6, "tag": "t", "pid": 9, "node": "n1", "user": "root", "msg": "bad \\x"}\n]\n}\n';
    const lines = parseClusterLog(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ time: 5, node: 'n1', pri: 3, tag: 't', user: 'root@pam', msg: 'a "q"' });
    expect(lines[1]!.msg).toContain('bad');
    expect(parseClusterLog('')).toEqual([]);
  });
});

describe('status command options', () => {
  it('derives the socket from --db and checks numbers', () => {
    const r = parseStatusArgs(['--db', '/tmp/d/config.db', '--json', '--timeout=500', '--log', '0']);
    expect(r).toEqual({ kind: 'run', args: { json: true, spans: false, socket: '/tmp/d/pmxcfs-ts.sock', mount: '/etc/pve', mountGiven: false, timeoutMs: 500, logLines: 0 } });
    expect(parseStatusArgs(['--mount', '/tmp/m'])).toMatchObject({ kind: 'run', args: { mount: '/tmp/m', mountGiven: true } });
    expect(parseStatusArgs(['--timeout=5']).kind).toBe('error');
    expect(parseStatusArgs(['--log=99']).kind).toBe('error');
    expect(parseStatusArgs(['--socket']).kind).toBe('error');
    expect(parseStatusArgs(['extra']).kind).toBe('error');
  });
});
