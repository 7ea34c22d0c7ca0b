import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../lab/bench/args';
import { MEASUREMENT_FIGURES } from '../../../lab/bench/measurement-names';
import { FIGURES } from '../../../lab/bench/figures';
import { parseProcIo } from '../../../lab/bench/proc-io';

describe('bench command line', () => {
  it('defaults: own daemon, 3 runs', () => {
    const r = parseArgs([]);
    expect(r.ok && r.options).toMatchObject({ runs: 3, seconds: 1, node: 'node1', lab: false });
    expect(r.ok && r.options.mount).toBeUndefined();
  });

  it('reads mount, pid, db, runs, json and only', () => {
    const r = parseArgs(['--mount', '/etc/pve', '--pid', '42', '--db', '/x.db', '--runs', '5', '--json', 'o.json',
      '--only', 'read-4k,amp-1k']);
    expect(r).toEqual({ ok: true, options: expect.objectContaining({ mount: '/etc/pve', pid: 42, db: '/x.db', runs: 5,
      json: 'o.json', only: ['read-4k', 'amp-1k'] }) });
  });

  it('rejects unknown names, bad numbers and --pid without --mount', () => {
    expect(parseArgs(['--only', 'read-4k,nope'])).toEqual({ ok: false, error: 'unknown measurement(s): nope' });
    expect(parseArgs(['--runs', '0']).ok).toBe(false);
    expect(parseArgs(['--runs', '2x']).ok).toBe(false);
    expect(parseArgs(['--mount']).ok).toBe(false);
    expect(parseArgs(['--pid', '7']).ok).toBe(false);
    expect(parseArgs(['--seconds', '-1']).ok).toBe(false);
    expect(parseArgs(['extra']).ok).toBe(false);
  });

  it('measures both client patterns unless --client narrows it', () => {
    const both = parseArgs([]);
    expect(both.ok && both.options.patterns).toEqual(['sync', 'async']);
    const one = parseArgs(['--client', 'async']);
    expect(one.ok && one.options.patterns).toEqual(['async']);
    expect(parseArgs(['--client', 'threads']).ok).toBe(false);
    const ns = parseArgs(['--ns']);
    expect(ns.ok && ns.options.ns).toBe(true);
  });

  it('every measurement names figures that exist', () => {
    const keys = new Set(FIGURES.map((f) => f.key));
    for (const figureKeys of Object.values(MEASUREMENT_FIGURES)) for (const k of figureKeys) expect(keys.has(k)).toBe(true);
  });
});

describe('/proc/<pid>/io parsing', () => {
  it('reads the counters', () => {
    const text = 'rchar: 6976\nwchar: 10\nsyscr: 10\nsyscw: 1\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 512\n';
    expect(parseProcIo(text)).toEqual({ rchar: 6976, wchar: 10, readBytes: 0, writeBytes: 4096, cancelledWriteBytes: 512 });
  });

  it('fails on a missing field', () => {
    expect(() => parseProcIo('rchar: 1\n')).toThrow(/missing/);
  });
});
