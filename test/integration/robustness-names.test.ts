/**
 * Odd names and times through the mount of a local-mode daemon: long names (the kernel's FUSE
 * limit is 1024 bytes, not NAME_MAX), names with a newline or non-ASCII UTF-8, names that are not
 * UTF-8 at all (kept as their bytes, as the reference keeps them), and utimes outside the u32 range
 * (clamped). Every accepted name and time survives a restart unchanged; the daemon never dies.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secondsForMtime } from '../../src/fuse/kernel-ops';
import { cleanup, errnoOf, startDaemon, stopDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;
const p = (rel: string) => join(d.mnt, rel);
/** A path under the mount with raw (possibly invalid UTF-8) name bytes. */
const raw = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat([Buffer.from(`${d.mnt}/`), ...parts.map((x) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from(x)))]);

/** Names accepted below, with their content, checked again after the restart. */
const kept = new Map<string, string>();
/** The same for names that are not UTF-8: name bytes (hex) -> content. */
const keptRaw = new Map<string, string>();
const listedHex = (): string[] => fs.readdirSync(d.mnt, { encoding: 'buffer' }).map((b) => b.toString('hex'));

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

  it('names that are not UTF-8 are kept as their bytes: two such names are two files (the reference stores bytes)', () => {
    const name = (...parts: (string | number[])[]) => Buffer.concat(parts.map((x) => Buffer.from(x as never)));
    const ff = name('bad', [0xff], '.cfg');
    const fe = name('bad', [0xfe], '.cfg');
    const broken = name('bad', [0xc3, 0x28]); // a broken 2-byte sequence
    const replacement = name('real-\uFFFD'); // a genuine U+FFFD is an ordinary character
    fs.writeFileSync(raw('bad', [0xff], '.cfg'), 'ff');
    fs.writeFileSync(raw('bad', [0xfe], '.cfg'), 'fe');
    fs.writeFileSync(raw('bad', [0xc3, 0x28]), 'broken');
    fs.writeFileSync(raw('real-\uFFFD'), 'U+FFFD');
    fs.mkdirSync(raw('dir', [0x80]));
    fs.writeFileSync(p('plain.cfg'), 'plain');
    fs.renameSync(p('plain.cfg'), raw('moved', [0xe9]));
    const moved = name('moved', [0xe9]);
    for (const [n, c] of [[ff, 'ff'], [fe, 'fe'], [broken, 'broken'], [replacement, 'U+FFFD'], [moved, 'plain']] as const) {
      expect(listedHex()).toContain(n.toString('hex'));
      expect(fs.readFileSync(Buffer.concat([Buffer.from(`${d.mnt}/`), n]), 'utf8')).toBe(c);
      keptRaw.set(n.toString('hex'), c);
    }
    expect(listedHex()).toContain(name('dir', [0x80]).toString('hex'));
    expect(fs.existsSync(p('plain.cfg'))).toBe(false);
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

});

describe('restart', () => {
  it('every accepted name, content and time is there after a restart', async () => {
    expect(d.proc.exitCode).toBeNull();
    expect(await stopDaemon(d)).toBe(0);
    d = await startDaemon({ dir: d.dir });
    for (const [name, content] of kept) expect(fs.readFileSync(p(name), 'utf8')).toBe(content);
    for (const [hex, content] of keptRaw) {
      expect(listedHex()).toContain(hex);
      expect(fs.readFileSync(Buffer.concat([Buffer.from(`${d.mnt}/`), Buffer.from(hex, 'hex')]), 'utf8')).toBe(content);
    }
    expect(fs.statSync(p('d'.repeat(300))).isDirectory()).toBe(true);
    expect(fs.statSync(p('future.cfg')).mtimeMs).toBe(0xffffffff * 1000);
    expect(fs.statSync(p('normal.cfg')).mtimeMs).toBe(1_700_000_000_000);
  });
});
