import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { WriteBuffers } from '../../../src/fuse/write-buffer';

const MiB = 1024 * 1024;

function setup(files: Record<string, Buffer | 'dir'>) {
  const commits: { path: string; content: string }[] = [];
  const store = new Map(Object.entries(files));
  const wb = new WriteBuffers(
    (path) => {
      const f = store.get(path);
      if (f === undefined) return -Errno.ENOENT;
      if (f === 'dir') return -Errno.ENOTDIR;
      return f;
    },
    async (path, content) => {
      commits.push({ path, content: content.toString('latin1') });
      store.set(path, Buffer.from(content));
      return content.length;
    },
  );
  return { wb, commits, store };
}

describe('WriteBuffers', () => {
  it('collects chunks and commits the whole content once', async () => {
    const { wb, commits } = setup({ f: Buffer.alloc(0) });
    for (let i = 0; i < 100; i++) expect(wb.write('f', i * 2, Buffer.from('ab'))).toBe(2);
    expect(wb.content('f')!.length).toBe(200);
    expect(await wb.flush('f')).toBe(0);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.content).toBe('ab'.repeat(100));
    expect(wb.has('f')).toBe(false);
    expect(await wb.flush('f')).toBe(0);
    expect(commits).toHaveLength(1);
  });

  it('overwrites in place, zero-fills gaps, truncates', async () => {
    const { wb, commits } = setup({ f: Buffer.from('0123456789') });
    wb.write('f', 3, Buffer.from('X'));
    wb.write('f', 6, Buffer.from('X'));
    expect(wb.content('f')!.toString()).toBe('012X45X789');
    wb.write('f', 12, Buffer.from('Z'));
    expect([...wb.content('f')!.subarray(10)]).toEqual([0, 0, 0x5a]);
    expect(wb.truncate('f', 4)).toBe(0);
    await wb.flush('f');
    expect(commits.at(-1)!.content).toBe('012X');
  });

  it('enforces 1 MiB per call: a chunk ending beyond it is EFBIG, earlier chunks stay', () => {
    const { wb } = setup({ f: Buffer.alloc(0) });
    expect(wb.write('f', 0, Buffer.alloc(MiB))).toBe(MiB);
    expect(wb.write('f', MiB, Buffer.alloc(1))).toBe(-Errno.EFBIG);
    expect(wb.write('f', MiB - 1, Buffer.alloc(2))).toBe(-Errno.EFBIG);
    expect(wb.truncate('f', MiB + 1)).toBe(-Errno.EFBIG);
    expect(wb.content('f')!.length).toBe(MiB);
  });

  it('never creates: missing file ENOENT, directory ENOTDIR', () => {
    const { wb } = setup({ d: 'dir' });
    expect(wb.write('nope', 0, Buffer.from('x'))).toBe(-Errno.ENOENT);
    expect(wb.write('d', 0, Buffer.from('x'))).toBe(-Errno.ENOTDIR);
    expect(wb.has('nope')).toBe(false);
  });

  it('a failed commit is reported by flush and the buffer dropped', async () => {
    const wb = new WriteBuffers(
      () => Buffer.alloc(0),
      async () => -Errno.EEXIST,
    );
    wb.write('f', 0, Buffer.from('x'));
    expect(await wb.flush('f')).toBe(-Errno.EEXIST);
    expect(wb.has('f')).toBe(false);
  });

  it('writes during an in-flight commit are committed by the next flush, in order', async () => {
    const commits: string[] = [];
    let release: (() => void) | undefined;
    const wb = new WriteBuffers(
      () => Buffer.alloc(0),
      (_p, content) =>
        new Promise((resolve) => {
          commits.push(content.toString());
          release = () => resolve(0);
        }),
    );
    wb.write('f', 0, Buffer.from('a'));
    const first = wb.flush('f');
    wb.write('f', 1, Buffer.from('b'));
    expect(wb.content('f')!.toString()).toBe('ab');
    const second = wb.flush('f');
    release!();
    expect(await first).toBe(0);
    await new Promise((r) => setImmediate(r));
    release!();
    expect(await second).toBe(0);
    expect(commits).toEqual(['a', 'ab']);
  });
});
