/**
 * The two client patterns the benchmark measures (issue 10), one operation in flight either way:
 * - sync: plain blocking syscalls one after another (Perl, shell tools; Node's *Sync calls), so the
 *   next request reaches the daemon right after the reply;
 * - async: every call hops through a thread pool (Node's fs/promises; any multi-threaded program),
 *   so each request pays a thread hand-off on the way out and back.
 * Figures of one pattern are compared only with the reference's figures of the same pattern.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';

export type ClientPattern = 'sync' | 'async';
export const CLIENT_PATTERNS: readonly ClientPattern[] = ['sync', 'async'];

type Maybe<T> = T | Promise<T>;

export interface FsClient {
  readonly pattern: ClientPattern;
  exists(file: string): Maybe<boolean>;
  stat(file: string): Maybe<unknown>;
  readFile(file: string): Maybe<Buffer>;
  /** open(O_WRONLY|O_CREAT|O_TRUNC), one write of all of data, close. */
  writeWhole(file: string, data: Buffer): Maybe<void>;
  /** open(O_WRONLY|O_CREAT, 0640) without truncation, one write, close (PVE's tmp file). */
  createWrite(file: string, data: Buffer): Maybe<void>;
  /** open(O_WRONLY|O_CREAT|O_TRUNC), `count` writes of `chunk` at increasing offsets, close. */
  writeChunks(file: string, chunk: Buffer, count: number): Maybe<void>;
  rename(from: string, to: string): Maybe<void>;
  mkdir(dir: string): Maybe<void>;
  rmdir(dir: string): Maybe<void>;
  readdirCount(dir: string): Maybe<number>;
}

function checkWritten(file: string, written: number, expected: number): void {
  if (written !== expected) throw new Error(`short write to ${file}: ${written} of ${expected}`);
}

const CREATE_FLAGS = fs.constants.O_CREAT | fs.constants.O_WRONLY;

export const syncClient: FsClient = {
  pattern: 'sync',
  exists: (file) => fs.statSync(file, { throwIfNoEntry: false }) !== undefined,
  stat: (file) => fs.statSync(file),
  readFile: (file) => fs.readFileSync(file),
  writeWhole(file, data) {
    const fd = fs.openSync(file, 'w');
    try {
      checkWritten(file, fs.writeSync(fd, data, 0, data.length, 0), data.length);
    } finally {
      fs.closeSync(fd);
    }
  },
  createWrite(file, data) {
    const fd = fs.openSync(file, CREATE_FLAGS, 0o640);
    try {
      checkWritten(file, fs.writeSync(fd, data), data.length);
    } finally {
      fs.closeSync(fd);
    }
  },
  writeChunks(file, chunk, count) {
    const fd = fs.openSync(file, 'w');
    try {
      for (let i = 0; i < count; i++) checkWritten(file, fs.writeSync(fd, chunk, 0, chunk.length, i * chunk.length), chunk.length);
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  mkdir: (dir) => fs.mkdirSync(dir),
  rmdir: (dir) => fs.rmdirSync(dir),
  readdirCount: (dir) => fs.readdirSync(dir).length,
};

export const asyncClient: FsClient = {
  pattern: 'async',
  exists: (file) => fsp.stat(file).then(() => true, (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return false;
    throw e;
  }),
  stat: (file) => fsp.stat(file),
  readFile: (file) => fsp.readFile(file),
  async writeWhole(file, data) {
    const h = await fsp.open(file, 'w');
    try {
      checkWritten(file, (await h.write(data, 0, data.length, 0)).bytesWritten, data.length);
    } finally {
      await h.close();
    }
  },
  async createWrite(file, data) {
    const h = await fsp.open(file, CREATE_FLAGS, 0o640);
    try {
      checkWritten(file, (await h.write(data)).bytesWritten, data.length);
    } finally {
      await h.close();
    }
  },
  async writeChunks(file, chunk, count) {
    const h = await fsp.open(file, 'w');
    try {
      for (let i = 0; i < count; i++) checkWritten(file, (await h.write(chunk, 0, chunk.length, i * chunk.length)).bytesWritten, chunk.length);
    } finally {
      await h.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  mkdir: (dir) => fsp.mkdir(dir).then(() => undefined),
  rmdir: (dir) => fsp.rmdir(dir),
  readdirCount: (dir) => fsp.readdir(dir).then((l) => l.length),
};

export function clientFor(pattern: ClientPattern): FsClient {
  return pattern === 'sync' ? syncClient : asyncClient;
}
