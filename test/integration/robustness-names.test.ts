/**
 * Odd names and times through the mount of a local-mode daemon: long names (the kernel's FUSE
 * limit is 1024 bytes, not NAME_MAX), names with a newline or non-ASCII UTF-8, names that are not
 * UTF-8 at all (EILSEQ: they cannot be told apart once decoded), and utimes outside the u32 range
 * (clamped). Every accepted name and time survives a restart unchanged; the daemon never dies.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUndecodableName, secondsForMtime } from '../../src/fuse/kernel-ops';
import { cleanup, errnoOf, startDaemon, stopDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;
const p = (rel: string) => join(d.mnt, rel);
/** A path under the mount with raw (possibly invalid UTF-8) name bytes. */
const raw = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat([Buffer.from(`${d.mnt}/`), ...parts.map((x) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from(x)))]);

/** Names accepted below, with their content, checked again after the restart. */
const kept = new Map<string, string>();

beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  await cleanup(d);
});

describe('names', () => {
  it('long names: up to 1024 bytes are accepted (the reference has no check either), 1025 is ENAMETOOLONG from the kernel', () => {
    for (const n of [255, 256, 300, 1024]) {
      const name = `${n}-`.padEnd(n, 'x');
      fs.writeFileSync(p(name), `len ${n}`);
      kept.set(name, `len ${n}`);
    }
    fs.mkdirSync(p('d'.repeat(300)));
    expect(errnoOf(() => fs.writeFileSync(p('y'.repeat(1025)), 'x'))).toBe('ENAMETOOLONG');
    expect(errnoOf(() => fs.mkdirSync(p('z'.repeat(1025))))).toBe('ENAMETOOLONG');
    expect(fs.readdirSync(d.mnt).filter((n) => n.length > 1024)).toEqual([]);
  });

  it('a newline and non-ASCII UTF-8 are ordinary name bytes', () => {
    for (const name of ['with\nnewline.cfg', 'tab\there', 'größe-ü.cfg', 'emoji-\u{1F600}.cfg', ' leading space']) {
      fs.writeFileSync(p(name), name);
      expect(fs.readFileSync(p(name), 'utf8')).toBe(name);
      kept.set(name, name);
    }
    const listed = fs.readdirSync(d.mnt, { encoding: 'buffer' }).map((b) => b.toString('hex'));
    expect(listed).toContain(Buffer.from('with\nnewline.cfg').toString('hex'));
    expect(listed).toContain(Buffer.from('größe-ü.cfg').toString('hex'));
    fs.renameSync(p('tab\there'), p('renamed\nagain'));
    kept.delete('tab\there');
    kept.set('renamed\nagain', 'tab\there');
  });

  it('names that are not UTF-8 are refused with EILSEQ and create nothing', () => {
    const before = fs.readdirSync(d.mnt).sort();
    fs.writeFileSync(p('plain.cfg'), 'plain');
    kept.set('plain.cfg', 'plain');
    expect(errnoOf(() => fs.writeFileSync(raw('bad', [0xff], '.cfg'), 'x'))).toBe('EILSEQ');
    expect(errnoOf(() => fs.writeFileSync(raw('bad', [0xc3, 0x28]), 'x'))).toBe('EILSEQ'); // broken 2-byte sequence
    expect(errnoOf(() => fs.mkdirSync(raw('dir', [0xfe])))).toBe('EILSEQ');
    expect(errnoOf(() => fs.renameSync(p('plain.cfg'), raw('moved', [0x80])))).toBe('EILSEQ');
    // Two different invalid names would have been one file; now neither exists.
    expect(errnoOf(() => fs.readFileSync(raw('bad', [0xfe], '.cfg')))).toBe('ENOENT');
    expect(fs.readdirSync(d.mnt).sort()).toEqual([...before, 'plain.cfg'].sort());
    expect(fs.readFileSync(p('plain.cfg'), 'utf8')).toBe('plain');
  });
});

describe('times', () => {
  // (A negative time cannot be tested from here: Node's utimes turns it into "now".)
  it('utimes beyond the u32 range is clamped (not kept in RAM only to read back differently after a restart)', () => {
    fs.writeFileSync(p('future.cfg'), 'f');
    fs.utimesSync(p('future.cfg'), 2 ** 40, 2 ** 40);
    expect(fs.statSync(p('future.cfg')).mtimeMs).toBe(0xffffffff * 1000);
    fs.writeFileSync(p('normal.cfg'), 'n');
    fs.utimesSync(p('normal.cfg'), 1_700_000_000, 1_700_000_000);
    expect(fs.statSync(p('normal.cfg')).mtimeMs).toBe(1_700_000_000_000);
  });
});

describe('the FUSE glue alone', () => {
  it('times: whole seconds clamped to [0, 2^32-1]', () => {
    expect(secondsForMtime(1_700_000_000n)).toBe(1_700_000_000);
    expect(secondsForMtime(-5n)).toBe(0);
    expect(secondsForMtime(2n ** 40n)).toBe(0xffffffff);
    expect(secondsForMtime(0n)).toBe(0);
  });

  it('names: only U+FFFD (what an invalid byte decodes to) marks a name as undecodable', () => {
    expect(isUndecodableName('/a/b\uFFFD.cfg')).toBe(true);
    expect(isUndecodableName('/größe/\u{1F600}\n.cfg')).toBe(false);
  });
});

describe('restart', () => {
  it('every accepted name, content and time is there after a restart', async () => {
    expect(d.proc.exitCode).toBeNull();
    expect(await stopDaemon(d)).toBe(0);
    d = await startDaemon({ dir: d.dir });
    for (const [name, content] of kept) expect(fs.readFileSync(p(name), 'utf8')).toBe(content);
    expect(fs.statSync(p('d'.repeat(300))).isDirectory()).toBe(true);
    expect(fs.statSync(p('future.cfg')).mtimeMs).toBe(0xffffffff * 1000);
    expect(fs.statSync(p('normal.cfg')).mtimeMs).toBe(1_700_000_000_000);
  });
});
