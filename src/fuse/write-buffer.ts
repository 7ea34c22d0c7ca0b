/**
 * Per-file write buffering (docs/differences.md): the chunks of write()/ftruncate() on a file are
 * collected here and committed as ONE truncating WRITE of the whole content at flush/fsync/release
 * or before any other operation on that path. Reads and getattr on this node see the buffered
 * content. No I/O here: the caller supplies how to load a file's content and how to commit one.
 */
import { Errno } from '../memdb/errno';
import { MEMDB_MAX_FILE_SIZE } from '../memdb/types';

/** Current content of an existing regular file, or -errno (ENOENT missing, ENOTDIR directory). */
export type LoadContent = (path: string) => Buffer | number;
/** Commits the whole content as one truncating write; resolves to >= 0 or -errno. */
export type CommitContent = (path: string, content: Buffer) => Promise<number>;

interface BufferedFile {
  data: Buffer;
  length: number;
  /** Changed since the last snapshot handed to commit. */
  dirty: boolean;
  /** The commit in flight for this path, if any (commits of one path never overlap). */
  inflight: Promise<number> | null;
}

export class WriteBuffers {
  private readonly files = new Map<string, BufferedFile>();

  constructor(
    private readonly load: LoadContent,
    private readonly commit: CommitContent,
  ) {}

  /** True while `path` has buffered content that reads must see. */
  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Paths with buffered content. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /** The buffered view of the file (a view: copy it if you keep it), or undefined. */
  content(path: string): Buffer | undefined {
    const f = this.files.get(path);
    return f === undefined ? undefined : f.data.subarray(0, f.length);
  }

  /**
   * One write() chunk. The 1 MiB limit applies per call exactly like the reference: a chunk that
   * ends beyond 1 MiB fails with EFBIG and leaves what earlier chunks wrote. Returns count or -errno.
   */
  write(path: string, offset: number, chunk: Buffer): number {
    if (offset + chunk.length > MEMDB_MAX_FILE_SIZE) return -Errno.EFBIG;
    const f = this.open(path);
    if (typeof f === 'number') return f;
    const end = offset + chunk.length;
    this.ensureCapacity(f, end);
    if (offset > f.length) f.data.fill(0, f.length, offset); // gap reads as zeros
    chunk.copy(f.data, offset);
    f.length = Math.max(f.length, end);
    f.dirty = true;
    return chunk.length;
  }

  /** ftruncate(): new length, zero-filled when growing. Returns 0 or -errno. */
  truncate(path: string, size: number): number {
    if (size > MEMDB_MAX_FILE_SIZE) return -Errno.EFBIG;
    const f = this.open(path);
    if (typeof f === 'number') return f;
    this.ensureCapacity(f, size);
    if (size > f.length) f.data.fill(0, f.length, size);
    f.length = size;
    f.dirty = true;
    return 0;
  }

  /**
   * Commits the buffered content of `path` (if changed) and returns only when that commit is done:
   * 0 or the commit's -errno. Waits for an earlier commit of the same path first.
   */
  async flush(path: string): Promise<number> {
    for (;;) {
      const f = this.files.get(path);
      if (f === undefined) return 0;
      if (f.inflight !== null) {
        const earlier = await f.inflight;
        if (earlier < 0 && this.files.get(path) !== f) return earlier; // our data went with it
        continue;
      }
      if (!f.dirty) {
        this.files.delete(path);
        return 0;
      }
      const snapshot = Buffer.from(f.data.subarray(0, f.length));
      f.dirty = false;
      const pending = this.commit(path, snapshot).catch(() => -Errno.EIO);
      f.inflight = pending;
      const result = await pending;
      f.inflight = null;
      if (result < 0) {
        // The commit failed: the caller of flush/close learns it; the buffer is dropped so reads
        // show the committed state again.
        if (this.files.get(path) === f) this.files.delete(path);
        return result;
      }
      if (!f.dirty && this.files.get(path) === f) this.files.delete(path);
      return 0;
    }
  }

  /** Commits every buffered file (shutdown). Returns the first error or 0. */
  async flushAll(): Promise<number> {
    let first = 0;
    for (const path of this.paths()) {
      const r = await this.flush(path);
      if (r < 0 && first === 0) first = r;
    }
    return first;
  }

  /** Forgets buffered content without committing it (e.g. the file was deleted meanwhile). */
  discard(path: string): void {
    this.files.delete(path);
  }

  private open(path: string): BufferedFile | number {
    const existing = this.files.get(path);
    if (existing !== undefined) return existing;
    const loaded = this.load(path);
    if (typeof loaded === 'number') return loaded;
    const data = Buffer.alloc(Math.max(4096, loaded.length));
    loaded.copy(data);
    const f: BufferedFile = { data, length: loaded.length, dirty: false, inflight: null };
    this.files.set(path, f);
    return f;
  }

  private ensureCapacity(f: BufferedFile, needed: number): void {
    if (needed <= f.data.length) return;
    let capacity = f.data.length;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.alloc(Math.min(Math.max(capacity, needed), Math.max(needed, MEMDB_MAX_FILE_SIZE)));
    f.data.copy(grown, 0, 0, f.length);
    f.data = grown;
  }
}
