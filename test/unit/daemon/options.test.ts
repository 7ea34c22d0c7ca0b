import { describe, expect, it } from 'vitest';
import { DEFAULT_DB, DEFAULT_MOUNT, parseArgs } from '../../../src/daemon/options';
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
