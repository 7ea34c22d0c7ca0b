import { describe, expect, it } from 'vitest';
import { daemonOptionsOf } from '../../../src/daemon/fuse-servers';
import { describeMount, fuseConnectionId, isFuse, mountsAt, topMountAt } from '../../../src/daemon/mountinfo';

const INFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:40 / /etc/pve rw,relatime - tmpfs volume rw,mode=750',
  '31 30 0:49 / /etc/pve rw,nosuid,nodev,relatime - fuse /dev/fuse rw,user_id=0,group_id=0,default_permissions,allow_other',
  '32 22 0:51 / /tmp/a\\040b rw - fuse.sshfs host:/x rw',
  'garbage line',
  '',
].join('\n');

describe('mountinfo', () => {
  it('lists the mounts stacked at a path in mount order, the visible one last', () => {
    expect(mountsAt(INFO, '/etc/pve').map((m) => m.fstype)).toEqual(['tmpfs', 'fuse']);
    expect(mountsAt(INFO, '/etc/pve/').length).toBe(2);
    const top = topMountAt(INFO, '/etc/pve')!;
    expect(top).toMatchObject({ mountId: 31, major: 0, minor: 49, source: '/dev/fuse', fstype: 'fuse' });
    expect(fuseConnectionId(top)).toBe(49);
    expect(describeMount(top)).toContain('device 0:49');
    expect(topMountAt(INFO, '/etc')).toBeUndefined();
  });

  it('decodes octal escapes and knows FUSE subtypes', () => {
    const m = topMountAt(INFO, '/tmp/a b')!;
    expect(m.fstype).toBe('fuse.sshfs');
    expect(isFuse(m)).toBe(true);
    expect(isFuse(mountsAt(INFO, '/etc/pve')[0]!)).toBe(false);
    expect(fuseConnectionId({ ...m, major: 1, minor: 2 })).toBe(2 ** 20 + 2);
  });
});

describe('daemonOptionsOf', () => {
  it('reads a pmxcfs-ts command line, paths made absolute against its working directory', () => {
    const o = daemonOptionsOf({ pid: 5, cwd: '/srv', argv: ['node', '/usr/lib/pmxcfs-ts/dist/src/main.js', '-f', '-l', '--mount', 'mnt', '--db=data/config.db', '--ready-fd', '3'] });
    expect(o).toMatchObject({ mount: '/srv/mnt', db: '/srv/data/config.db', local: true });
    expect(o!.controlSocket).toBeUndefined();
    const s = daemonOptionsOf({ pid: 5, cwd: '/', argv: ['/usr/bin/node', 'main.js', '--control-socket', 'run/x.sock'] });
    expect(s!.controlSocket).toBe('/run/x.sock');
    // node options before the script: the heap option a re-executed daemon adds, and the operator's own
    const r = daemonOptionsOf({ pid: 5, cwd: '/', argv: ['/usr/bin/node', '--max-semi-space-size=1', '--trace-gc', '--cpu-prof', '/opt/p/dist/src/main.js', '-f', '--mount', '/m'] });
    expect(r).toMatchObject({ mount: '/m', foreground: true });
  });

  it('the reference and other programs: defaults, or nothing', () => {
    expect(daemonOptionsOf({ pid: 5, cwd: '/', argv: ['/usr/bin/pmxcfs'] })).toMatchObject({ db: '/var/lib/pve-cluster/config.db', mount: '/etc/pve' });
    expect(daemonOptionsOf({ pid: 5, cwd: '/', argv: ['sshfs', 'host:/x', '/mnt'] })).toBeUndefined();
    expect(daemonOptionsOf({ pid: 5, cwd: '/', argv: [] })).toBeUndefined();
    expect(daemonOptionsOf({ pid: 5, cwd: '/', argv: ['node', 'main.js', '--bogus'] })).toBeUndefined();
  });
});
