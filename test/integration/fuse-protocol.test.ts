/**
 * The kernel-protocol layer over a real mount (the daemon as a separate process): READDIR paging
 * of a large directory, node ids that follow renames, names beyond the FUSE
 * limit, requests without a handler, and many requests in flight at once.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, errnoOf, startDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;
let M: string;
const p = (rel: string) => join(M, rel);

beforeAll(async () => {
  d = await startDaemon();
  M = d.mnt;
});
afterAll(async () => {
  await cleanup(d);
});

describe('READDIR over a real mount', () => {
  it('a directory whose entries need many READDIR pages lists every name exactly once', () => {
    fs.mkdirSync(p('big'));
    const names: string[] = [];
    // 200 names of 120 bytes: ~30 KiB of dirents, several 4 KiB pages
    for (let i = 0; i < 200; i++) names.push(`${String(i).padStart(4, '0')}-${'n'.repeat(115)}`);
    for (const n of names) fs.writeFileSync(p(`big/${n}`), '');
    const listed = fs.readdirSync(p('big'));
    expect(listed.length).toBe(names.length);
    expect([...listed].sort()).toEqual([...names].sort());
  });
});

describe('node ids follow renames', () => {
  it('an open file that is renamed is written under its new name, before and after the rename', () => {
    fs.writeFileSync(p('w.tmp'), '');
    const fd = fs.openSync(p('w.tmp'), 'r+');
    fs.writeSync(fd, 'before-', 0);
    fs.renameSync(p('w.tmp'), p('w.conf'));
    fs.writeSync(fd, 'after', 7);
    fs.closeSync(fd);
    expect(fs.readFileSync(p('w.conf'), 'utf8')).toBe('before-after');
    expect(errnoOf(() => fs.statSync(p('w.tmp')))).toBe('ENOENT');
  });

  it('a non-empty directory is not renamed (ENOTEMPTY), its files keep their paths', () => {
    fs.mkdirSync(p('d1'));
    fs.writeFileSync(p('d1/f'), 'x');
    expect(errnoOf(() => fs.renameSync(p('d1'), p('d2')))).toBe('ENOTEMPTY');
    expect(fs.readFileSync(p('d1/f'), 'utf8')).toBe('x');
  });

  it('an empty directory renamed into another keeps serving lookups below its new path', () => {
    fs.mkdirSync(p('m1'));
    fs.mkdirSync(p('m2'));
    fs.renameSync(p('m1'), p('m2/inner'));
    fs.writeFileSync(p('m2/inner/f'), 'y');
    expect(fs.readdirSync(p('m2/inner'))).toEqual(['f']);
    expect(errnoOf(() => fs.statSync(p('m1')))).toBe('ENOENT');
  });

  it('a renamed file keeps its inode number; the old name is gone', () => {
    fs.writeFileSync(p('r.tmp'), 'x');
    const ino = fs.statSync(p('r.tmp')).ino;
    fs.renameSync(p('r.tmp'), p('r.conf'));
    expect(fs.statSync(p('r.conf')).ino).toBe(ino);
    expect(errnoOf(() => fs.statSync(p('r.tmp')))).toBe('ENOENT');
  });
});

describe('names and unsupported requests', () => {
  it('names longer than 1024 bytes are ENAMETOOLONG for lookup, mkdir and create', () => {
    const long = 'x'.repeat(1025);
    expect(errnoOf(() => fs.statSync(p(long)))).toBe('ENAMETOOLONG');
    expect(errnoOf(() => fs.mkdirSync(p(long)))).toBe('ENAMETOOLONG');
    expect(errnoOf(() => fs.writeFileSync(p(long), ''))).toBe('ENAMETOOLONG');
  });

  it('a request without a handler (fallocate) fails and the mount keeps serving', () => {
    fs.writeFileSync(p('fa'), 'abc');
    const r = spawnSync('fallocate', ['-l', '4096', p('fa')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not supported|not implemented/i);
    expect(fs.readFileSync(p('fa'), 'utf8')).toBe('abc');
  });
});

describe('many requests in flight', () => {
  it('concurrent writes to 40 files all land with their own content', async () => {
    fs.mkdirSync(p('par'));
    const files = Array.from({ length: 40 }, (_, i) => ({ path: p(`par/f${i}`), data: `content of file ${i}\n`.repeat(i + 1) }));
    await Promise.all(files.map((f) => fs.promises.writeFile(f.path, f.data)));
    const back = await Promise.all(files.map((f) => fs.promises.readFile(f.path, 'utf8')));
    expect(back).toEqual(files.map((f) => f.data));
  });
});
