/**
 * RrdWriter with a fake librrd (no rrdcached: socket null): what it creates and updates, and that
 * nothing it is given makes it throw. The real librrd and rrdcached are in
 * test/integration/rrd-writer.test.ts.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RrdLibrary } from '../../../src/rrd/librrd';
import { RrdWriter, isStaleUpdateError } from '../../../src/rrd/rrd-writer';
import { RateLimitedLog } from '../../../src/rrd/rate-limited-log';
import type { RrdTarget } from '../../../src/kvstore/rrd-key';

class FakeLib implements RrdLibrary {
  creates: { file: string; step: number; start: number; args: readonly string[] }[] = [];
  updates: { file: string; values: string }[] = [];
  last = new Map<string, number>();
  createError: string | null = null;

  create(file: string, step: number, start: number, args: readonly string[]): string | null {
    if (this.createError !== null) return this.createError;
    this.creates.push({ file, step, start, args });
    writeFileSync(file, 'rrd');
    this.last.set(file, start);
    return null;
  }

  update(file: string, values: string): string | null {
    const ts = Number(values.split(':')[0]);
    const last = this.last.get(file) ?? 0;
    if (ts <= last) return `${file}: illegal attempt to update using time ${ts} when last update time is ${last} (minimum one second step)`;
    this.last.set(file, ts);
    this.updates.push({ file, values });
    return null;
  }
}

const storage = (ts: number, used = 5): RrdTarget => ({ kind: 'storage', file: 'pve-storage-9.0/node1/local', update: `${ts}:100:${used}` });

describe('RrdWriter (fake librrd)', () => {
  let dir: string;
  let lib: FakeLib;
  let logs: { prio: string; msg: string }[];
  let now: number;
  let writer: RrdWriter;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rrd-unit-'));
    lib = new FakeLib();
    logs = [];
    now = 0;
    writer = new RrdWriter({ dir, rrdcachedSocket: null, log: (prio, msg) => logs.push({ prio, msg }), loadLibrary: () => lib, nowMs: () => now });
  });
  afterEach(() => {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing file (directories 0750) with the kind\'s parameters, then updates it', () => {
    writer.write(storage(1700000000));
    const file = join(dir, 'pve-storage-9.0/node1/local');
    expect(lib.creates).toHaveLength(1);
    expect(lib.creates[0]).toMatchObject({ file, step: 60, args: expect.arrayContaining(['DS:total:GAUGE:120:0:U', 'RRA:MAX:0.5:10080:570']) });
    expect(lib.creates[0]!.start).toBeLessThan(1700000000);
    expect(lib.updates).toEqual([{ file, values: '1700000000:100:5' }]);
    expect(statSync(join(dir, 'pve-storage-9.0')).mode & 0o777).toBe(0o750);
    expect(statSync(join(dir, 'pve-storage-9.0/node1')).mode & 0o777).toBe(0o750);

    writer.write(storage(1700000060, 6));
    expect(lib.creates).toHaveLength(1);
    expect(lib.updates.map((u) => u.values)).toEqual(['1700000000:100:5', '1700000060:100:6']);
    expect(logs).toEqual([]);
  });

  it('an old sample is ignored with a debug line only', () => {
    writer.write(storage(1700000060));
    writer.write(storage(1700000000));
    expect(lib.updates).toHaveLength(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.prio).toBe('debug');
    expect(logs[0]!.msg).toContain('not newer than the last one');
  });

  it('garbage is logged (rate-limited per file) and reaches neither create nor update', () => {
    const bad: RrdTarget = { kind: 'node', file: 'pve-node-9.0/node1', update: '1700000000:1:2:3' };
    for (let i = 0; i < 5; i++) expect(() => writer.write(bad)).not.toThrow();
    expect(lib.creates).toHaveLength(0);
    expect(logs).toEqual([{ prio: 'warning', msg: 'RRD update error pve-node-9.0/node1: bad sample (expected 19 values, got 3)' }]);
    now += 60_000;
    writer.write(bad);
    expect(logs).toHaveLength(2);
    expect(logs[1]!.msg).toContain('(4 similar messages suppressed)');
    writer.write({ kind: 'storage', file: 'pve-storage-9.0/../../etc', update: '1700000000:1:2' });
    expect(logs[2]!.msg).toContain('refusing file name');
    expect(existsSync(join(dir, '..', 'etc'))).toBe(false);
  });

  it('a directory that cannot be made is logged; create errors are logged; nothing throws', () => {
    writeFileSync(join(dir, 'pve-storage-9.0'), 'not a directory');
    expect(() => writer.write(storage(1700000000))).not.toThrow();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ prio: 'warning', msg: expect.stringContaining('RRD create error') });
    lib.createError = 'opening x: Permission denied';
    writer.write({ kind: 'vm', file: 'pve-vm-9.0/100', update: ['1700000000', ...new Array(17).fill('U')].join(':') });
    expect(logs[1]!.msg).toContain('Permission denied');
  });

  it('a library that throws inside write is caught and logged', () => {
    lib.update = () => {
      throw new Error('boom');
    };
    expect(() => writer.write(storage(1700000000))).not.toThrow();
    expect(logs.at(-1)!.msg).toContain('boom');
  });

  it('librrd missing: one log line at start, writes are no-ops', () => {
    const lines: string[] = [];
    const w = new RrdWriter({
      dir,
      rrdcachedSocket: null,
      log: (_p, m) => lines.push(m),
      loadLibrary: () => {
        throw new Error('librrd.so.8: cannot open shared object file: No such file or directory');
      },
    });
    expect(w.enabled).toBe(false);
    w.write(storage(1700000000));
    w.write(storage(1700000060));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('RRD files are not written');
    expect(existsSync(join(dir, 'pve-storage-9.0'))).toBe(false);
    w.close();
  });
});

describe('helpers', () => {
  it('isStaleUpdateError knows librrd\'s and rrdcached\'s wording', () => {
    expect(isStaleUpdateError('/x: illegal attempt to update using time 1 when last update time is 2 (minimum one second step)')).toBe(true);
    expect(isStaleUpdateError('illegal attempt to update using time 1700000100.000000 when last update time is 1700000120.000000')).toBe(true);
    expect(isStaleUpdateError('No such file: /x')).toBe(false);
  });

  it('RateLimitedLog: one line per key and interval, then the count held back', () => {
    let t = 0;
    const r = new RateLimitedLog(1000, () => t);
    expect(r.line('a', 'x')).toBe('x');
    expect(r.line('a', 'x')).toBeNull();
    expect(r.line('b', 'y')).toBe('y');
    t = 1000;
    expect(r.line('a', 'x')).toBe('x (1 similar message suppressed)');
    expect(r.line('a', 'x')).toBeNull();
  });
});
