/**
 * What the kernel may cache for this mount, and telling it what changed (docs/architecture.md,
 * "Kernel caches").
 *
 * With a kernel that has FUSE_NOTIFY_INC_EPOCH (protocol 7.44), names (also missing ones),
 * attributes and the pages of regular files are cached for CACHE_SECONDS, and every change this
 * node applies — its own FUSE request, a peer's message, a sync — is followed, before the daemon
 * answers anything else, by the notifications that make the kernel ask again (kernel/notifier.ts):
 * - content or mtime of an entry: its attributes at once, its pages from a pool thread (requests
 *   that would let a reader past the attribute check wait for that);
 * - a name that appeared or went: when the change is the one the kernel asked for in a CREATE,
 *   MKDIR, UNLINK, RMDIR or RENAME that is still waiting for its answer, the kernel updates its own
 *   names and nothing is needed; any other name change (a peer's, a sync, a race with a peer) drops
 *   every name the kernel looked up (INC_EPOCH);
 * - the whole tree (sync) and quorum changes (the write bits of every mode): every name and every
 *   node's attributes.
 * Status files stay uncached (direct_io, attributes valid 0 s): their text changes without any
 * tree operation. Without INC_EPOCH the mount keeps the reference's caching (entries and
 * attributes 1 s, no negative entries, direct_io everywhere).
 */
import { DT_REG } from '../memdb/types';
import type { MemDb, TreeChange } from '../memdb/memdb';
import { FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FOPEN_NOFLUSH, MINOR_WITH_INC_EPOCH, type Validity } from './kernel/abi';
import type { NodeTable } from './kernel/node-table';
import type { KernelNotifier } from './kernel/notifier';
import { resolvePath, type PathTarget } from './virtual-entries';

/** How long the kernel may keep what it was told, when changes are notified. */
export const CACHE_SECONDS = 3600;
/** As libfuse's defaults, which the reference runs with: entries and attributes 1 s, no negative entries. */
export const LEGACY_VALIDITY: Validity = { entrySeconds: 1, attrSeconds: 1 };
const CACHED_VALIDITY: Validity = { entrySeconds: CACHE_SECONDS, attrSeconds: CACHE_SECONDS };
const STATUS_VALIDITY: Validity = { entrySeconds: CACHE_SECONDS, attrSeconds: 0 };
const O_ACCMODE = 3;
const O_RDONLY = 0;
const EMPTY = Buffer.alloc(0);

/** What the cache needs from the backend: the tree and, in a cluster, quorum changes. */
export interface CacheSource {
  readonly memdb: MemDb;
  onQuorumChange?(listener: (quorate: boolean) => void): () => void;
}

/** A name change this node's kernel asked for and is waiting to hear the result of. */
export interface NameChange {
  op: 'create' | 'mkdir' | 'delete' | 'rename';
  /** Mount-relative FUSE paths ("/a/b"). */
  path: string;
  to?: string;
}

interface Expectation {
  key: string;
  consumed: boolean;
}

export class KernelCache {
  private on = false;
  /**
   * Whether the kernel may hold a name (a dentry, also a negative one) it got after the last
   * INC_EPOCH: only then can a name change make one of its names wrong. Names it got before are
   * revalidated anyway, so a node where nothing looked names up (a peer without local clients)
   * sends no INC_EPOCH for every name change of the cluster.
   */
  private namesOut = true;
  private readonly expected = new Map<string, Expectation[]>();
  /** Contents of own commits in flight, by tree path (see ownCommit). */
  private readonly ownContent = new Map<string, Buffer[]>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly nodes: NodeTable,
    private readonly notifier: Pick<KernelNotifier, 'invalidateAttributes' | 'invalidatePages' | 'dropAllNames' | 'settled'>,
    private readonly source: CacheSource | undefined,
  ) {}

  /** Decided at INIT: caching needs INC_EPOCH (7.44) and a source of changes. */
  start(kernelMinor: number): boolean {
    if (this.on || this.source === undefined || kernelMinor < MINOR_WITH_INC_EPOCH) return this.on;
    this.on = true;
    this.unsubscribe.push(this.source.memdb.observe((c) => this.applied(c)));
    if (this.source.onQuorumChange) this.unsubscribe.push(this.source.onQuorumChange(() => this.everything()));
    return true;
  }

  /** No more caching (unmount, or the kernel cannot be told of changes). */
  stop(): void {
    this.on = false;
    for (const off of this.unsubscribe.splice(0)) off();
  }

  get enabled(): boolean {
    return this.on;
  }

  /** Entry and attribute validity for a mount path. */
  validity(t: PathTarget): Validity {
    if (!this.on) return LEGACY_VALIDITY;
    return t.kind === 'status' ? STATUS_VALIDITY : CACHED_VALIDITY;
  }

  /** Seconds the kernel may remember that a name does not exist (0: not at all). */
  negativeSeconds(): number {
    return this.on ? CACHE_SECONDS : 0;
  }

  /** fuse_open_out.open_flags for an open of `t` with the open(2) flags `flags`. */
  openFlags(t: PathTarget, flags: number): number {
    if (!this.on || t.kind !== 'memdb') return FOPEN_DIRECT_IO;
    return (flags & O_ACCMODE) === O_RDONLY ? FOPEN_KEEP_CACHE | FOPEN_NOFLUSH : FOPEN_KEEP_CACHE;
  }

  /** While the pages of `nodeid` are being dropped, a promise of the end of that; else null. */
  settled(nodeid: number): Promise<void> | null {
    return this.on ? this.notifier.settled(nodeid) : null;
  }

  /**
   * The kernel gets a name: an entry or negative entry is answered. Call it before the answer is
   * written. (Name changes of its own, CREATE MKDIR UNLINK RMDIR RENAME, count in expect/answered.)
   */
  namesHandedOut(): void {
    this.namesOut = true;
  }

  /**
   * Call before submitting a name change the kernel asked for; give the token to `answered`. The
   * kernel changes its own names with the answer, so both count as names handed out.
   */
  expect(change: NameChange): Expectation | null {
    this.namesOut = true;
    if (!this.on) return null;
    const key = changeKey(change.op, memdbPath(change.path), change.to === undefined ? undefined : memdbPath(change.to));
    const e: Expectation = { key, consumed: false };
    const list = this.expected.get(key);
    if (list === undefined) this.expected.set(key, [e]);
    else list.push(e);
    return e;
  }

  /**
   * The request of `e` is answered with `result`. If a change with its key was taken as its own but
   * the request failed, that change was someone else's and the kernel does not know of it.
   */
  answered(e: Expectation | null, result: number): void {
    if (e !== null) {
      if (!e.consumed) this.remove(e);
      else if (result < 0) this.dropNames();
    }
    this.namesOut = true;
  }

  /**
   * Buffered content of `path` (a tree path) is about to be committed. The kernel already holds
   * those bytes in its pages: WRITEs go through its page cache, and while a file has buffered
   * content every READ is answered from that buffer. So when the tree then takes exactly these
   * bytes, whoever's change it is, the kernel's pages are right and only the attributes (mtime) are
   * dropped; this spares the pool-thread page invalidation after every own write. Call the returned
   * function with the commit's result.
   */
  ownCommit(path: string, content: Buffer): (result: number) => void {
    if (!this.on) return () => undefined;
    const list = this.ownContent.get(path);
    if (list === undefined) this.ownContent.set(path, [content]);
    else list.push(content);
    return () => this.forgetOwnContent(path, content);
  }

  /** Content the kernel may hold that the tree does not have (a buffered write whose commit failed). */
  contentDiscarded(path: string): void {
    if (this.on) this.contentChanged(memdbPath(path));
  }

  private applied(c: TreeChange): void {
    switch (c.kind) {
      case 'content':
        return this.contentChanged(c.path);
      case 'reload':
        return this.everything(true);
      case 'name': {
        const to = c.op === 'rename' ? c.to : undefined;
        this.attributes(c.path);
        if (to !== undefined) this.attributes(to);
        const list = this.expected.get(changeKey(c.op, c.path, to));
        const own = list?.find((e) => !e.consumed);
        if (own !== undefined) {
          own.consumed = true;
          this.remove(own);
        } else {
          this.dropNames();
        }
        return;
      }
    }
  }

  private contentChanged(path: string): void {
    const id = this.nodes.idOf(path);
    if (id === undefined) return;
    this.notifier.invalidateAttributes(id);
    const entry = this.source?.memdb.lookup(path);
    if (entry?.type !== DT_REG) return;
    if (this.takeOwnContent(path, entry.data)) return;
    this.notifier.invalidatePages(id);
  }

  /** True (and the expectation is used up) when the tree now holds the content of an own commit. */
  private takeOwnContent(path: string, data: Buffer | null): boolean {
    const list = this.ownContent.get(path);
    if (list === undefined) return false;
    const now = data ?? EMPTY;
    const content = list.find((c) => c.equals(now));
    if (content === undefined) return false;
    this.forgetOwnContent(path, content);
    return true;
  }

  private forgetOwnContent(path: string, content: Buffer): void {
    const list = this.ownContent.get(path);
    if (list === undefined) return;
    const i = list.indexOf(content);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.ownContent.delete(path);
  }

  private attributes(path: string): void {
    const id = this.nodes.idOf(path);
    if (id !== undefined) this.notifier.invalidateAttributes(id);
  }

  /** Every name, every node's attributes (quorum: the modes) and, after a sync, every node's pages. */
  private everything(pages = false): void {
    if (!this.on) return;
    this.dropNames();
    for (const id of this.nodes.ids()) {
      this.notifier.invalidateAttributes(id);
      if (pages) this.notifier.invalidatePages(id);
    }
  }

  private dropNames(): void {
    if (!this.namesOut) return;
    this.namesOut = false;
    if (!this.notifier.dropAllNames()) this.off();
  }

  /** The kernel refused INC_EPOCH: from now on only the reference's short-lived caching. */
  private off(): void {
    this.stop();
  }

  private remove(e: Expectation): void {
    const list = this.expected.get(e.key);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.expected.delete(e.key);
  }
}

function changeKey(op: string, path: string, to: string | undefined): string {
  return to === undefined ? `${op}\0${path}` : `${op}\0${path}\0${to}`;
}

/** The tree's form of a mount path ("/a//b/" -> "a/b"); virtual names keep their name. */
function memdbPath(fusePath: string): string {
  const t = resolvePath(fusePath);
  return t.kind === 'memdb' ? t.path : fusePath.split('/').filter((p) => p !== '').join('/');
}
