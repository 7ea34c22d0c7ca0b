import { describe, expect, it } from 'vitest';
import {
  checkRrdUpdate,
  isSafeRrdFile,
  rrdCreateArgs,
  rrdCreateParams,
  rrdSourceType,
  rrdStartTime,
  RRD_SOURCES,
} from '../../../src/rrd/rrd-layout';
import { rrdTargetFor } from '../../../src/kvstore/rrd-key';

const ARCHIVES = [
  'RRA:AVERAGE:0.5:1:1440',
  'RRA:AVERAGE:0.5:30:1440',
  'RRA:AVERAGE:0.5:360:1440',
  'RRA:AVERAGE:0.5:10080:570',
  'RRA:MAX:0.5:1:1440',
  'RRA:MAX:0.5:30:1440',
  'RRA:MAX:0.5:360:1440',
  'RRA:MAX:0.5:10080:570',
];

describe('RRD create parameters (spec §11.2)', () => {
  it('node: 19 data sources in order, netin/netout DERIVE, all heartbeat 120, min 0, max U, then 8 archives', () => {
    expect(rrdCreateArgs('node')).toEqual([
      'DS:loadavg:GAUGE:120:0:U',
      'DS:maxcpu:GAUGE:120:0:U',
      'DS:cpu:GAUGE:120:0:U',
      'DS:iowait:GAUGE:120:0:U',
      'DS:memtotal:GAUGE:120:0:U',
      'DS:memused:GAUGE:120:0:U',
      'DS:swaptotal:GAUGE:120:0:U',
      'DS:swapused:GAUGE:120:0:U',
      'DS:roottotal:GAUGE:120:0:U',
      'DS:rootused:GAUGE:120:0:U',
      'DS:netin:DERIVE:120:0:U',
      'DS:netout:DERIVE:120:0:U',
      'DS:memavailable:GAUGE:120:0:U',
      'DS:arcsize:GAUGE:120:0:U',
      'DS:pressurecpusome:GAUGE:120:0:U',
      'DS:pressureiosome:GAUGE:120:0:U',
      'DS:pressureiofull:GAUGE:120:0:U',
      'DS:pressurememorysome:GAUGE:120:0:U',
      'DS:pressurememoryfull:GAUGE:120:0:U',
      ...ARCHIVES,
    ]);
  });

  it('vm: 17 data sources, netin/netout/diskread/diskwrite DERIVE', () => {
    expect(rrdCreateArgs('vm')).toEqual([
      'DS:maxcpu:GAUGE:120:0:U',
      'DS:cpu:GAUGE:120:0:U',
      'DS:maxmem:GAUGE:120:0:U',
      'DS:mem:GAUGE:120:0:U',
      'DS:maxdisk:GAUGE:120:0:U',
      'DS:disk:GAUGE:120:0:U',
      'DS:netin:DERIVE:120:0:U',
      'DS:netout:DERIVE:120:0:U',
      'DS:diskread:DERIVE:120:0:U',
      'DS:diskwrite:DERIVE:120:0:U',
      'DS:memhost:GAUGE:120:0:U',
      'DS:pressurecpusome:GAUGE:120:0:U',
      'DS:pressurecpufull:GAUGE:120:0:U',
      'DS:pressureiosome:GAUGE:120:0:U',
      'DS:pressureiofull:GAUGE:120:0:U',
      'DS:pressurememorysome:GAUGE:120:0:U',
      'DS:pressurememoryfull:GAUGE:120:0:U',
      ...ARCHIVES,
    ]);
  });

  it('storage: total and used, both GAUGE', () => {
    expect(rrdCreateArgs('storage')).toEqual(['DS:total:GAUGE:120:0:U', 'DS:used:GAUGE:120:0:U', ...ARCHIVES]);
    expect(rrdSourceType('total')).toBe('GAUGE');
    expect(rrdSourceType('diskread')).toBe('DERIVE');
  });

  it('step 60 s; start = local midnight of the sample day', () => {
    const sample = Math.floor(new Date(2025, 4, 17, 13, 45, 12).getTime() / 1000);
    const midnight = Math.floor(new Date(2025, 4, 17, 0, 0, 0).getTime() / 1000);
    expect(rrdCreateParams('node', sample)).toMatchObject({ step: 60, start: midnight });
    expect(rrdStartTime(midnight + 1)).toBe(midnight);
  });

  it('a sample at exactly midnight starts the file one second earlier (the sample must be newer than the start)', () => {
    const midnight = Math.floor(new Date(2025, 0, 1, 0, 0, 0).getTime() / 1000);
    expect(rrdStartTime(midnight)).toBe(midnight - 1);
  });
});

describe('checkRrdUpdate', () => {
  const node = (n: number) => ['1700000000', ...new Array<string>(n).fill('1.5')].join(':');

  it('accepts the kind\'s column count with numbers and U', () => {
    expect(checkRrdUpdate('node', node(19))).toEqual({ ok: true, time: 1700000000 });
    expect(checkRrdUpdate('storage', '1700000000:U:-3.5e+2')).toEqual({ ok: true, time: 1700000000 });
    expect(checkRrdUpdate('vm', ['1700000000', ...new Array<string>(17).fill('U')].join(':')).ok).toBe(true);
  });

  it('refuses a wrong column count, a bad timestamp and garbage values', () => {
    expect(checkRrdUpdate('node', node(18))).toEqual({ ok: false, error: 'expected 19 values, got 18' });
    expect(checkRrdUpdate('node', node(20)).ok).toBe(false);
    expect(checkRrdUpdate('storage', 'N:1:2').ok).toBe(false);
    expect(checkRrdUpdate('storage', '-5:1:2').ok).toBe(false);
    expect(checkRrdUpdate('storage', '0:1:2').ok).toBe(false);
    expect(checkRrdUpdate('storage', '1700000000:x:2')).toEqual({ ok: false, error: "bad value 'x' for total" });
    expect(checkRrdUpdate('storage', '1700000000:1:2 FLUSHALL').ok).toBe(false);
    expect(checkRrdUpdate('storage', '1700000000:1:').ok).toBe(false);
    expect(checkRrdUpdate('storage', '').ok).toBe(false);
  });

  it('what rrd-key makes of real pvestatd samples passes', () => {
    const nodeKey = rrdTargetFor('pve-node-9.0/n1', `3600:0:1700000000:${new Array(19).fill('0.25').join(':')}`);
    expect(nodeKey).toMatchObject({ kind: 'node' });
    if (!('error' in nodeKey)) expect(checkRrdUpdate(nodeKey.kind, nodeKey.update).ok).toBe(true);
    const legacy = rrdTargetFor('pve2-node/n1', `3600:0:1700000000:${new Array(12).fill('7').join(':')}`);
    if (!('error' in legacy)) expect(checkRrdUpdate(legacy.kind, legacy.update).ok).toBe(true);
    const vm = rrdTargetFor('pve2.3-vm/100', `60:web:running:0:1700000000:${new Array(10).fill('1').join(':')}`);
    if (!('error' in vm)) expect(checkRrdUpdate(vm.kind, vm.update)).toEqual({ ok: true, time: 1700000000 });
    expect(RRD_SOURCES.vm).toHaveLength(17);
  });
});

describe('isSafeRrdFile', () => {
  it('allows normal names, refuses traversal, empty segments, whitespace and control characters', () => {
    expect(isSafeRrdFile('pve-node-9.0/node1')).toBe(true);
    expect(isSafeRrdFile('pve-storage-9.0/node1/local-lvm')).toBe(true);
    expect(isSafeRrdFile('pve-node-9.0/..')).toBe(false);
    expect(isSafeRrdFile('pve-storage-9.0/../x')).toBe(false);
    expect(isSafeRrdFile('pve-node-9.0/.')).toBe(false);
    expect(isSafeRrdFile('/etc/passwd')).toBe(false);
    expect(isSafeRrdFile('pve-node-9.0/a b')).toBe(false);
    expect(isSafeRrdFile('pve-node-9.0/a\nFLUSHALL')).toBe(false);
    expect(isSafeRrdFile('')).toBe(false);
  });
});
