import { describe, expect, it } from 'vitest';
import { decideCorosyncConfUpdate, parseConfigVersion } from '../../../src/dcdb/corosync-conf';

const conf = (v: number, extra = '') => `totem {\n  cluster_name: lab\n  config_version: ${v}\n}\n${extra}`;

describe('corosync.conf (spec §9)', () => {
  it('parses the first config_version', () => {
    expect(parseConfigVersion(conf(7))).toBe(7);
    expect(parseConfigVersion('config_version:3 config_version: 9')).toBe(3);
    expect(parseConfigVersion('totem {}')).toBe(0);
  });

  it('decides write and reload', () => {
    expect(decideCorosyncConfUpdate(undefined, conf(1))).toEqual({ write: false, reload: false, log: [] });
    expect(decideCorosyncConfUpdate('', conf(1)).write).toBe(false);
    // the reference logs its refusals as crit (seen: `[dcdb] crit: unable to parse cluster config_version`)
    expect(decideCorosyncConfUpdate('totem {}', conf(1)).log).toEqual([{ prio: 'crit', text: 'unable to parse cluster config_version' }]);
    expect(decideCorosyncConfUpdate(conf(0), conf(1)).log).toEqual([{ prio: 'crit', text: 'unable to parse cluster config_version' }]);
    expect(decideCorosyncConfUpdate(conf(2), conf(2))).toEqual({ write: false, reload: false, log: [] });
    const older = decideCorosyncConfUpdate(conf(2), conf(3));
    expect(older.write).toBe(false);
    expect(older.log[0]!.text).toContain('local corosync.conf is newer');
    expect(older.log[0]!.prio).toBe('crit');
    expect(decideCorosyncConfUpdate(conf(3), conf(2))).toMatchObject({ write: true, reload: true });
    expect(decideCorosyncConfUpdate(conf(3), conf(2), false)).toMatchObject({ write: true, reload: false });
    // No old file, or an old file without a version: write, never reload.
    expect(decideCorosyncConfUpdate(conf(3), undefined)).toMatchObject({ write: true, reload: false });
    expect(decideCorosyncConfUpdate(conf(3), 'garbage')).toMatchObject({ write: true, reload: false });
    // Same version, different bytes: written.
    expect(decideCorosyncConfUpdate(conf(3, '# x\n'), conf(3)).write).toBe(true);
    expect(decideCorosyncConfUpdate(conf(3), conf(2)).log[0]).toEqual({ prio: 'notice', text: "wrote new corosync config '/etc/corosync/corosync.conf' (version = 3)" });
  });
});
