/**
 * The cluster log (spec §11.1): a ring buffer with the reference's exact byte layout, so that its
 * sorted form is the kvstore STATE blob other nodes (C or TS) merge.
 *
 *   header: size u32 | cpos u32 (offset of the newest entry, 0 = empty)
 *   entries: 8-byte aligned, from offset 8, linked by prev/next offsets (see clog-entry.ts)
 *
 * Pure: times come in as parameters. One instance per daemon; its uid counter is the reference's
 * per-process counter.
 */
import { Decoded, fail, ok } from '../dfsm/wire';
import {
  alignedSize,
  CLOG_MAX_ENTRY_SIZE,
  ClogEntry,
  ClogFields,
  packEntry,
  readEntryAt,
} from './clog-entry';

export const CLOG_HEADER_SIZE = 8;
export const CLOG_DEFAULT_SIZE = 8192 * 16;
export const CLOG_MIN_SIZE = CLOG_MAX_ENTRY_SIZE * 10;

/** Identity of an entry across nodes: (time, node digest, uid). */
function entryKey(e: ClogEntry): string {
  return `${e.time}:${e.nodeDigest}:${e.uid}`;
}

/** Ascending by (time, node_digest, uid), all unsigned. */
export function compareEntries(a: ClogEntry, b: ClogEntry): number {
  if (a.time !== b.time) return a.time - b.time;
  if (a.nodeDigest !== b.nodeDigest) return a.nodeDigest < b.nodeDigest ? -1 : 1;
  return a.uid - b.uid;
}

/**
 * Walk a ring buffer newest first, with the reference's stop rules (an offset within 4096 bytes
 * after the newest entry may be overwritten; a prev link that wraps back into the part already
 * walked ends the walk) plus bounds and cycle checks for buffers from peers.
 */
function* walkEntries(buf: Buffer): Generator<Decoded<ClogEntry>> {
  const size = buf.length;
  const newest = buf.readUInt32LE(4);
  const seen = new Set<number>();
  let cpos = newest;
  while (cpos && (cpos <= newest || cpos > newest + CLOG_MAX_ENTRY_SIZE)) {
    if (cpos < CLOG_HEADER_SIZE || cpos % 8 !== 0) {
      yield fail('range', `cluster log entry offset ${cpos}`);
      return;
    }
    if (seen.has(cpos)) {
      yield fail('range', `cluster log chain loops at ${cpos}`);
      return;
    }
    seen.add(cpos);
    const entry = readEntryAt(buf, cpos, size, false);
    yield entry;
    if (!entry.ok) return;
    const prev = buf.readUInt32LE(cpos);
    if (cpos < prev && prev <= newest) return;
    cpos = prev;
  }
}

function walkNewestFirst(buf: Buffer): Decoded<ClogEntry[]> {
  const out: ClogEntry[] = [];
  for (const entry of walkEntries(buf)) {
    if (!entry.ok) return { ok: false, error: entry.error };
    out.push(entry.value);
  }
  return ok(out);
}

/** Check a STATE blob (a whole ring buffer) and list its entries newest first. */
export function decodeClusterLogState(state: Buffer): Decoded<ClogEntry[]> {
  if (state.length <= CLOG_HEADER_SIZE) return fail('short', `cluster log state of ${state.length} bytes`);
  const size = state.readUInt32LE(0);
  if (size !== state.length) return fail('length', `cluster log state of ${state.length} bytes, header says ${size}`);
  const cpos = state.readUInt32LE(4);
  if (cpos !== 0 && cpos >= size) return fail('range', `cluster log newest entry at ${cpos} of ${size}`);
  return walkNewestFirst(state);
}

/** A ring buffer of `size` bytes holding `entries` (oldest first), built like the reference. */
function ringOf(size: number, entriesOldestFirst: Iterable<ClogEntry>): Buffer {
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE(size, 0);
  for (const e of entriesOldestFirst) appendToRing(buf, e);
  return buf;
}

/** The reference's clog_alloc_entry + clog_copy: place after the newest entry, wrap to 8. */
function appendToRing(buf: Buffer, entry: ClogEntry): void {
  const size = entry.bytes.length;
  if (size <= 48 || size > CLOG_MAX_ENTRY_SIZE) return;
  const real = alignedSize(size);
  const cpos = buf.readUInt32LE(4);
  let newpos = CLOG_HEADER_SIZE;
  if (cpos) {
    newpos = buf.readUInt32LE(cpos + 4);
    if (newpos + real >= buf.length) newpos = CLOG_HEADER_SIZE;
  }
  entry.bytes.copy(buf, newpos + 8, 8, size);
  buf.writeUInt32LE(cpos, newpos);
  buf.writeUInt32LE(newpos + real, newpos + 4);
  buf.writeUInt32LE(newpos, 4);
}

interface DedupMark {
  time: number;
  uid: number;
}

export interface ClusterLogOptions {
  /** Ring size in bytes (default 131072, at least 40960). */
  size?: number;
}

export class ClusterLog {
  private ring: Buffer;
  /** Newest (time, uid) seen per node digest: only strictly newer entries are inserted. */
  private dedup = new Map<bigint, DedupMark>();
  private uidCounter = 0;

  constructor(options: ClusterLogOptions = {}) {
    const size = options.size ?? CLOG_DEFAULT_SIZE;
    if (!Number.isInteger(size) || size < CLOG_MIN_SIZE || size > 0xffffffff) {
      throw new RangeError(`cluster log size ${size} (min ${CLOG_MIN_SIZE})`);
    }
    this.ring = ringOf(size, []);
  }

  get size(): number {
    return this.ring.length;
  }

  /**
   * Log a local message: pack it with the next uid and insert it. Returns the entry (to multicast
   * as a kvstore LOG message), or undefined when the priority is outside 0..7.
   */
  add(fields: ClogFields): ClogEntry | undefined {
    const entry = packEntry(fields, (this.uidCounter + 1) >>> 0);
    if (!entry) return undefined;
    this.uidCounter = (this.uidCounter + 1) >>> 0;
    this.insert(entry);
    return entry;
  }

  /** Insert an entry (local or received) unless its node already has a newer or equal one. */
  insert(entry: ClogEntry): boolean {
    if (!this.recordIfNewer(entry)) return false;
    appendToRing(this.ring, entry);
    return true;
  }

  private recordIfNewer(entry: ClogEntry): boolean {
    const mark = this.dedup.get(entry.nodeDigest);
    if (mark && !(entry.time > mark.time || (entry.time === mark.time && entry.uid > mark.uid))) {
      return false;
    }
    this.dedup.set(entry.nodeDigest, { time: entry.time, uid: entry.uid });
    return true;
  }

  /** All entries, newest first (the order of .clusterlog). */
  entriesNewestFirst(): ClogEntry[] {
    const walked = walkNewestFirst(this.ring);
    // Our own ring is built by appendToRing only, so the walk cannot fail.
    return walked.ok ? walked.value : [];
  }

  /** Entries newest first, decoded lazily (a reader that needs the first 50 stops early). */
  *iterateNewestFirst(): Generator<ClogEntry> {
    for (const entry of walkEntries(this.ring)) {
      if (!entry.ok) return;
      yield entry.value;
    }
  }

  /** The raw ring buffer (a copy). */
  bytes(): Buffer {
    return Buffer.from(this.ring);
  }

  /**
   * The kvstore STATE: the ring re-built in ascending (time, node digest, uid) order, which also
   * becomes our ring (as the reference does).
   */
  state(): Buffer {
    if (this.ring.readUInt32LE(4) !== 0) {
      const unique = new Map<string, ClogEntry>();
      for (const e of this.entriesNewestFirst()) if (!unique.has(entryKey(e))) unique.set(entryKey(e), e);
      this.ring = ringOf(this.ring.length, [...unique.values()].sort(compareEntries));
    }
    return Buffer.from(this.ring);
  }

  /**
   * Merge the logs of all members of a sync round (our own log is always included; `states` may
   * contain our own STATE too, or undecodable blobs, which are skipped and reported).
   * Entries are taken newest first by (time, node digest, uid), exact duplicates dropped, until
   * size - 8 - 4096 bytes are used; stored oldest first; dedup marks rebuilt. The result depends
   * only on the set of entries, so every member ends with the same log. (The reference picks by
   * time only and breaks ties by member order; with a total order the cut is order-independent.)
   */
  merge(states: readonly Buffer[]): { rejected: { index: number; reason: string }[] } {
    const rejected: { index: number; reason: string }[] = [];
    const lists: ClogEntry[][] = [this.entriesNewestFirst()];
    states.forEach((state, index) => {
      const decoded = decodeClusterLogState(state);
      if (decoded.ok) lists.push(decoded.value);
      else rejected.push({ index, reason: decoded.error.toString() });
    });

    // Same key, different bytes (a restarted node reusing a uid in the same second): keep the
    // byte-wise smaller one, so the choice does not depend on who merges.
    const unique = new Map<string, ClogEntry>();
    for (const list of lists) {
      for (const e of list) {
        const key = entryKey(e);
        const held = unique.get(key);
        if (!held || Buffer.compare(e.bytes, held.bytes) < 0) unique.set(key, e);
      }
    }
    const newestFirst = [...unique.values()].sort((a, b) => compareEntries(b, a));

    const size = this.ring.length;
    const budget = size - CLOG_HEADER_SIZE - CLOG_MAX_ENTRY_SIZE;
    const kept: ClogEntry[] = [];
    let used = 0;
    for (const e of newestFirst) {
      kept.push(e);
      used += alignedSize(e.bytes.length);
      if (used >= budget) break;
    }

    this.dedup = new Map();
    for (const e of kept) this.recordIfNewer(e);
    this.ring = ringOf(size, kept.reverse());
    return { rejected };
  }
}
