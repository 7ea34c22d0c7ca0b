/**
 * What the simulation remembers about the kvstore traffic it generated, and the kvstore invariants
 * checked after the final settle (README: kvstore invariants). Pure bookkeeping: it only reads the
 * Kvstore instances through their public views.
 */
import { alignedSize, CLOG_MAX_ENTRY_SIZE, type ClogEntry } from '../../src/kvstore/clog-entry';
import { CLOG_HEADER_SIZE, compareEntries } from '../../src/kvstore/clusterlog';
import type { KvstoreEffect } from '../../src/kvstore/kvstore';
import { rrdTargetFor } from '../../src/kvstore/rrd-key';
import type { KvProcess } from './kv-process';

/** Identity of a cluster-log entry across nodes (spec §11.1): (time, node digest, uid). */
export function clogKey(e: ClogEntry): string {
  return `${e.time}:${e.nodeDigest}:${e.uid}`;
}

/** The bytes the kvstore merge keeps at most, for a ring of `size` bytes (size - 8 - 4096). */
export function clogMergeBudget(size: number): number {
  return size - CLOG_HEADER_SIZE - CLOG_MAX_ENTRY_SIZE;
}

export interface KvFinalProcess {
  name: string;
  nodeid: number;
  kv: KvProcess;
}

export interface KvCounts {
  /** Keys another node still shows for a node that deleted them or restarted (by design). */
  staleKv: number;
  /** Final cluster-log entries (per node). */
  clogEntries: number;
  /** Seeds where everything logged fitted the merge budget, so completeness was checked. */
  clogCompleteChecked: number;
}

export class KvTracker {
  /** node name -> key -> every value (hex) any process of that node set. */
  private readonly everSet = new Map<string, Map<string, Set<string>>>();
  /** node name -> keys it deleted, or that one of its processes held when it died. */
  private readonly forgotten = new Map<string, Set<string>>();
  /** Cluster-log entry key -> the process that logged it. */
  private readonly logged = new Map<string, string>();
  /** Aligned bytes of every entry ever logged, by anyone. */
  private loggedBytes = 0;
  /** rrd key (without `rrd/`) -> every accepted sample text. */
  private readonly rrdSent = new Map<string, Set<string>>();

  constructor(private readonly violation: (kind: string, detail: string) => void) {}

  /** A local SET_STATUS and its result. */
  onSet(node: string, key: string, value: Buffer, result: number): void {
    if (result < 0) return;
    if (key.startsWith('rrd/')) {
      const k = key.slice(4);
      const set = this.rrdSent.get(k) ?? new Set<string>();
      set.add(value.subarray(0, value.indexOf(0)).toString('utf8'));
      this.rrdSent.set(k, set);
      return;
    }
    if (key === 'nodeip') return;
    if (value.length === 0) {
      this.forget(node, key);
      return;
    }
    const table = this.everSet.get(node) ?? new Map<string, Set<string>>();
    const values = table.get(key) ?? new Set<string>();
    values.add(value.toString('hex'));
    table.set(key, values);
    this.everSet.set(node, table);
  }

  onLogged(procKey: string, entry: ClogEntry | undefined): void {
    if (entry === undefined) return;
    this.logged.set(clogKey(entry), procKey);
    this.loggedBytes += alignedSize(entry.bytes.length);
  }

  /** A process dies: the keys it held may live on in the other nodes' tables. */
  onProcessEnd(node: string, kv: KvProcess): void {
    for (const [key] of kv.kvstore.kvstoreVersions()[0]!.keys) this.forget(node, key);
  }

  private forget(node: string, key: string): void {
    const set = this.forgotten.get(node) ?? new Set<string>();
    set.add(key);
    this.forgotten.set(node, set);
  }

  /** An rrd-update effect (local or remote): only for keys somebody set with an accepted value. */
  onRrdEffect(procKey: string, effect: KvstoreEffect): void {
    const target = rrdTargetFor(effect.key, '');
    if ('error' in target) this.violation('rrd', `${procKey}: rrd-update effect for invalid key ${effect.key}`);
    else if (!this.rrdSent.has(effect.key)) this.violation('rrd', `${procKey}: rrd-update effect for ${effect.key}, which nobody set`);
    else if (target.file !== effect.target.file) this.violation('rrd', `${procKey}: ${effect.key} goes to ${effect.target.file}, expected ${target.file}`);
  }

  /** The invariants after the final settle: one view with every node, nothing in flight. */
  finalCheck(procs: KvFinalProcess[], configured: number[], now: number, counts: KvCounts): void {
    this.checkClusterLog(procs, counts);
    this.checkView(procs, configured, counts);
    for (const a of procs) this.checkRrdCache(a, now);
  }

  /**
   * Within one view whose members are all SYNCED with nothing in flight (also during the run):
   * each member shows exactly the members online, every member's own IP, and every member's
   * current kv values (extra keys only where the owner forgot them).
   */
  checkView(members: KvFinalProcess[], configured: number[], counts: KvCounts | undefined): void {
    for (const b of members) {
      for (const id of configured) {
        const isMember = members.some((m) => m.nodeid === id);
        if (b.kv.kvstore.isOnline(id) !== isMember) this.violation('kv-online', `${b.name} sees node ${id} ${isMember ? 'offline' : 'online'}, view: ${members.map((m) => m.name).join(' ')}`);
      }
      for (const a of members) {
        const ownIp = a.kv.kvstore.nodeIp(a.name);
        if (ownIp === undefined) this.violation('kv-nodeip', `${a.name} has no own nodeip while synced`);
        else if (b.kv.kvstore.nodeIp(a.name) !== ownIp) {
          this.violation('kv-nodeip', `${b.name} has nodeip ${String(b.kv.kvstore.nodeIp(a.name))} for ${a.name}, which says ${ownIp}`);
        }
        if (a !== b) this.checkKvView(a, b, counts);
      }
    }
  }

  /**
   * Cluster logs after the final settle (README): while nothing ever reached the size bound, every
   * node holds exactly the same entries (compared in (time, node digest, uid) order: ring order
   * is insertion order, which differs for entries that arrived after the last merge) and nothing
   * a live process logged is missing. Once the bound was reached, rings that wrapped after the
   * last merge may have dropped different old entries, so only the newest half agrees.
   */
  private checkClusterLog(procs: KvFinalProcess[], counts: KvCounts): void {
    const first = procs[0];
    if (first === undefined) return;
    const size = first.kv.kvstore.clusterLog.size;
    const bounded = this.loggedBytes >= clogMergeBudget(size) - CLOG_MAX_ENTRY_SIZE;
    const newestFirst = (p: KvFinalProcess) => {
      const all = p.kv.kvstore.clusterLog.entriesNewestFirst().sort((a, b) => compareEntries(b, a));
      if (!bounded) return all;
      let used = 0;
      return all.filter((e) => (used += alignedSize(e.bytes.length)) <= clogMergeBudget(size) / 2);
    };
    const reference = newestFirst(first);
    counts.clogEntries += first.kv.kvstore.clusterLog.entriesNewestFirst().length;
    const order = (list: ClogEntry[]) => list.map(clogKey).join(' ');
    for (const p of procs.slice(1)) {
      const entries = newestFirst(p);
      const n = Math.min(entries.length, reference.length);
      const same = (bounded || entries.length === reference.length) && entries.slice(0, n).every((e, i) => e.bytes.equals(reference[i]!.bytes));
      if (!same) {
        this.violation(
          'clog-agree',
          `${p.name} and ${first.name} hold different ${bounded ? 'newest ' : ''}cluster-log entries: ${order(entries)} | ${order(reference)}`,
        );
      }
    }
    for (const e of reference) {
      if (!this.logged.has(clogKey(e))) this.violation('clog-known', `${first.name} holds entry ${clogKey(e)} that nobody logged`);
    }
    if (bounded) return;
    counts.clogCompleteChecked++;
    const live = new Set(procs.map((p) => p.kv.key));
    const held = new Set(reference.map(clogKey));
    for (const [key, proc] of this.logged) {
      if (live.has(proc) && !held.has(key)) this.violation('clog-complete', `entry ${key} logged by live process ${proc} is missing from the final log`);
    }
  }

  /** b's table for a: a's own values for every key a has; extra keys only where a forgot them. */
  private checkKvView(a: KvFinalProcess, b: KvFinalProcess, counts: KvCounts | undefined): void {
    const own = a.kv.kvstore.kvstoreVersions()[0]!.keys.map(([k]) => k);
    for (const key of own) {
      const mine = a.kv.kvstore.getStatus(key);
      const seen = b.kv.kvstore.getStatus(key, a.name);
      if (typeof mine === 'number' || typeof seen === 'number' || !mine.equals(seen)) {
        this.violation('kv-view', `${b.name} sees ${a.name}:${key} = ${fmt(seen)}, ${a.name} has ${fmt(mine)}`);
      }
    }
    const block = b.kv.kvstore.kvstoreVersions().find((v, i) => i > 0 && v.node === a.name);
    for (const [key] of block?.keys ?? []) {
      if (own.includes(key)) continue;
      const seen = b.kv.kvstore.getStatus(key, a.name);
      const ever = this.everSet.get(a.name)?.get(key);
      if (!this.forgotten.get(a.name)?.has(key) || typeof seen === 'number' || !ever?.has(seen.toString('hex'))) {
        this.violation('kv-view', `${b.name} sees ${a.name}:${key} = ${fmt(seen)}, which ${a.name} neither has nor ever deleted`);
      } else {
        if (counts !== undefined) counts.staleKv++;
      }
    }
  }

  /** The RRD cache holds only valid keys that somebody set, each with a sample that was sent. */
  private checkRrdCache(p: KvFinalProcess, now: number): void {
    for (const line of p.kv.kvstore.rrdDump(now).split('\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      const key = line.slice(0, colon);
      const data = line.slice(colon + 1);
      if (colon < 0 || 'error' in rrdTargetFor(key, data)) this.violation('rrd', `${p.name}: RRD cache holds invalid key ${key}`);
      else if (!this.rrdSent.get(key)?.has(data)) this.violation('rrd', `${p.name}: RRD cache holds ${key} = ${data}, which nobody sent`);
    }
  }
}

function fmt(v: Buffer | number): string {
  return typeof v === 'number' ? `errno ${v}` : JSON.stringify(v.toString('utf8'));
}
