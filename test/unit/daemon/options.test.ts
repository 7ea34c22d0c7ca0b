import { describe, expect, it } from 'vitest';
import { DEFAULT_DB, DEFAULT_MOUNT, parseArgs, toArgv, withAbsolutePaths, type DaemonOptions } from '../../../src/daemon/options';
import { pidFilePath } from '../../../src/daemon/pidfile';
import { lookupGroupId } from '../../../src/daemon/system-setup';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('parseArgs', () => {
  it('defaults', () => {
    const r = parseArgs([]);
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.options).toMatchObject({ foreground: false, local: false, debug: false, mount: DEFAULT_MOUNT, db: DEFAULT_DB });
    expect(r.options.nodename).not.toContain('.');
  });

  it('short, combined and long flags, values with = or separate', () => {
    const r = parseArgs(['-fl', '--debug', '--mount=/m', '--db', '/x/c.db', '--nodename', 'n1']);
    expect(r).toEqual({
      kind: 'run',
      options: { foreground: true, local: true, debug: true, mount: '/m', db: '/x/c.db', nodename: 'n1' },
    });
  });

  it('an extra positional argument is "too many arguments"', () => {
    expect(parseArgs(['-f', 'extra'])).toEqual({ kind: 'error', message: 'too many arguments' });
  });

  it('unknown options and missing values are errors; --help is help', () => {
    expect(parseArgs(['-x']).kind).toBe('error');
    expect(parseArgs(['--bogus']).kind).toBe('error');
    expect(parseArgs(['--db']).kind).toBe('error');
    expect(parseArgs(['--help']).kind).toBe('help');
  });
});

describe('path options of a daemonized start', () => {
  const every: DaemonOptions = {
    foreground: false,
    local: true,
    debug: true,
    mount: 'mnt',
    db: 'data/config.db',
    nodename: 'n1',
    corosyncConf: '../etc/corosync.conf',
    controlSocket: 'run/x.sock',
    rrdDir: './rrd',
    rrdcachedSocket: 'rrdcached.sock',
  };

  it('every relative path is resolved against the given directory; the keyword none stays', () => {
    expect(withAbsolutePaths(every, () => '/srv/pve')).toEqual({
      ...every,
      mount: '/srv/pve/mnt',
      db: '/srv/pve/data/config.db',
      corosyncConf: '/srv/etc/corosync.conf',
      controlSocket: '/srv/pve/run/x.sock',
      rrdDir: '/srv/pve/rrd',
      rrdcachedSocket: '/srv/pve/rrdcached.sock',
    });
    expect(withAbsolutePaths({ ...every, rrdcachedSocket: 'none' }, () => '/srv').rrdcachedSocket).toBe('none');
  });

  it('absolute paths stay (normalised) and never ask for the directory', () => {
    const noCwd = (): string => {
      throw new Error('ENOENT: current directory removed');
    };
    const r = withAbsolutePaths({ ...every, mount: '/etc/pve/', db: '/var/lib/pve-cluster//config.db', corosyncConf: undefined, controlSocket: undefined, rrdDir: undefined, rrdcachedSocket: undefined }, noCwd);
    expect(r).toMatchObject({ mount: '/etc/pve', db: '/var/lib/pve-cluster/config.db' });
    expect(() => withAbsolutePaths(every, noCwd)).toThrow('current directory removed');
  });

  it('toArgv gives a command line that parses back to the same options', () => {
    for (const o of [every, { ...every, local: false, debug: false, foreground: true, corosyncConf: undefined, rrdDir: undefined }]) {
      const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
      expect(parseArgs(toArgv(o))).toEqual({ kind: 'run', options: defined });
    }
    const spaced = { ...every, mount: '/tmp/a b=c', db: '-x.db' };
    expect(parseArgs(toArgv(spaced))).toEqual({ kind: 'run', options: spaced });
  });
});

describe('pid file and group lookup', () => {
  it('pid file: /var/run/pve-cluster.pid for the default db, else next to the db', () => {
    expect(pidFilePath(DEFAULT_DB)).toBe('/var/run/pve-cluster.pid');
    expect(pidFilePath('/tmp/x/config.db')).toBe('/tmp/x/pmxcfs.pid');
  });

  it('reads a gid from a group file', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'grp-')), 'group');
    writeFileSync(f, 'root:x:0:\nwww-data:x:33:\nfoo:x:1000:bar\n');
    expect(lookupGroupId('www-data', f)).toBe(33);
    expect(lookupGroupId('foo', f)).toBe(1000);
    expect(lookupGroupId('nobody', f)).toBeUndefined();
  });
});
