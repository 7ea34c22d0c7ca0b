/**
 * Always-on latency spans of replicated writes (issue 10): timestamps taken with
 * performance.now() at fixed points of a dcdb operation's path, kept for the last N writes and
 * summarised as per-stage percentiles for `pmxcfs-ts status --spans`.
 *
 * Two kinds of record:
 * - an origin span, on the node whose FUSE request made the write: request in -> submit (quorum
 *   check) -> encoded -> cpg_mcast_joined called/returned -> its own delivery -> result -> reply out;
 * - a delivery, on every node for every dcdb NORMAL message: the dispatch wake-up (the cpg fd was
 *   readable) -> deliver callback -> apply start -> SQLite commit start/end -> apply end.
 * An origin span links to the delivery of its own message, so its stages cover the whole path.
 *
 * Cost: a dozen performance.now() reads and small object writes per write; nothing is allocated per stage and
 * summaries are computed only when asked. One process, one event loop: the "current" pointers
 * below are safe because every hook runs synchronously on that loop.
 */
import type { FuseUnique } from '../fuse/kernel/abi';

/** Nanoseconds on the monotonic clock of performance.now() (a double: no BigInt allocated per stamp). */
export type Nanos = number;

export function nowNs(): Nanos {
  return performance.now() * 1e6;
}

export interface DeliveryRecord {
  /** The dispatch of the cpg fd started (libuv saw it readable). */
  wake: Nanos;
  /** The deliver callback of this message started. */
  deliver: Nanos;
  applyStart: Nanos;
  commitStart: Nanos;
  commitEnd: Nanos;
  applyEnd: Nanos;
  own: boolean;
}

export interface OriginSpan {
  /** FUSE request in (0 when the write was not made by a FUSE request that is still open). */
  fuseIn: Nanos;
  fuseUnique: FuseUnique | null;
  /** DcdbClient.submit entered; then the quorum check passed. */
  submit: Nanos;
  quorum: Nanos;
  encoded: Nanos;
  mcastStart: Nanos;
  mcastEnd: Nanos;
  /** The DFSM message count of the message (links the result to the span). */
  count: number;
  delivery: DeliveryRecord | null;
  /** The waiter's promise resumed in DcdbClient. */
  result: Nanos;
  /** The reply's write(2) to /dev/fuse started / returned (it wakes the caller). */
  replyStart: Nanos;
  reply: Nanos;
}

/** One stage: a name and how to take its duration from a record (undefined: not measured). */
interface StageDef<R> {
  name: string;
  duration: (r: R) => number | undefined;
}

const span = (a: Nanos, b: Nanos): number | undefined => (a > 0 && b > 0 && b >= a ? b - a : undefined);

export const ORIGIN_STAGES: readonly StageDef<OriginSpan>[] = [
  { name: 'fuse-in -> submit', duration: (s) => span(s.fuseIn, s.submit) },
  { name: 'quorum check', duration: (s) => span(s.submit, s.quorum) },
  { name: 'encode', duration: (s) => span(s.quorum, s.encoded) },
  { name: 'encoded -> cpg_mcast', duration: (s) => span(s.encoded, s.mcastStart) },
  { name: 'cpg_mcast_joined call', duration: (s) => span(s.mcastStart, s.mcastEnd) },
  { name: 'mcast -> own delivery wake', duration: (s) => span(s.mcastEnd, s.delivery?.wake ?? 0) },
  { name: 'wake -> deliver callback', duration: (s) => span(s.delivery?.wake ?? 0, s.delivery?.deliver ?? 0) },
  { name: 'deliver -> apply', duration: (s) => span(s.delivery?.deliver ?? 0, s.delivery?.applyStart ?? 0) },
  { name: 'apply (without commit)', duration: (s) => applyWithoutCommit(s.delivery) },
  { name: 'sqlite commit', duration: (s) => span(s.delivery?.commitStart ?? 0, s.delivery?.commitEnd ?? 0) },
  { name: 'apply end -> result', duration: (s) => span(s.delivery?.applyEnd ?? 0, s.result) },
  { name: 'result -> reply', duration: (s) => span(s.result, s.reply) },
  { name: '  of which write(2) reply', duration: (s) => span(s.replyStart, s.reply) },
  { name: 'submit -> result', duration: (s) => span(s.submit, s.result) },
  { name: 'total (fuse-in -> reply)', duration: (s) => span(s.fuseIn, s.reply) },
];

export const DELIVERY_STAGES: readonly StageDef<DeliveryRecord>[] = [
  { name: 'wake -> deliver callback', duration: (d) => span(d.wake, d.deliver) },
  { name: 'deliver -> apply', duration: (d) => span(d.deliver, d.applyStart) },
  { name: 'apply (without commit)', duration: (d) => applyWithoutCommit(d) },
  { name: 'sqlite commit', duration: (d) => span(d.commitStart, d.commitEnd) },
  { name: 'deliver -> applied', duration: (d) => span(d.deliver, d.applyEnd) },
];

function applyWithoutCommit(d: DeliveryRecord | null): number | undefined {
  if (d === null) return undefined;
  const whole = span(d.applyStart, d.applyEnd);
  if (whole === undefined) return undefined;
  return whole - (span(d.commitStart, d.commitEnd) ?? 0);
}

/** Percentiles of one stage over the records that measured it, in microseconds. */
export interface StageSummary {
  stage: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SpansSummary {
  /** How many records each list holds at most (the last N). */
  window: number;
  /** Own writes made through FUSE on this node (origin spans, completed). */
  writes: number;
  origin: StageSummary[];
  /** Deliveries of dcdb messages sent by other nodes, applied here. */
  peerDeliveries: number;
  peer: StageSummary[];
}

/** The value at quantile q (0..1) of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarise<R>(records: readonly R[], stages: readonly StageDef<R>[]): StageSummary[] {
  const out: StageSummary[] = [];
  for (const stage of stages) {
    const values: number[] = [];
    for (const r of records) {
      const d = stage.duration(r);
      if (d !== undefined) values.push(d / 1000);
    }
    if (values.length === 0) continue;
    values.sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 10) / 10;
    out.push({
      stage: stage.name,
      count: values.length,
      p50: round(quantile(values, 0.5)),
      p90: round(quantile(values, 0.9)),
      p99: round(quantile(values, 0.99)),
      max: round(values[values.length - 1]!),
    });
  }
  return out;
}

/** A fixed-size ring of the last `size` records. */
export class Ring<R> {
  private readonly items: R[] = [];
  private next = 0;
  constructor(readonly size: number) {}
  push(r: R): void {
    if (this.items.length < this.size) this.items.push(r);
    else this.items[this.next] = r;
    this.next = (this.next + 1) % this.size;
  }
  /** Oldest first. */
  toArray(): R[] {
    return this.items.length < this.size ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
  clear(): void {
    this.items.length = 0;
    this.next = 0;
  }
  get length(): number {
    return this.items.length;
  }
}

const DEFAULT_WINDOW = 1024;
/** Origin spans waiting for their result; more than this means results are being lost. */
const MAX_OPEN = 256;

export class WriteSpans {
  private readonly origins: Ring<OriginSpan>;
  private readonly peers: Ring<DeliveryRecord>;
  /** FUSE requests answered asynchronously that are still open, by unique (insertion = arrival order). */
  private readonly openRequests = new Map<FuseUnique, Nanos>();
  /** Spans by FUSE unique, waiting for the reply. */
  private readonly awaitingReply = new Map<FuseUnique, OriginSpan[]>();
  /** Spans by DFSM count, waiting for their own delivery's result. */
  private readonly awaitingResult = new Map<number, OriginSpan>();
  /** The span whose submit is on the stack (between submitting() and submitted()). */
  private active: OriginSpan | null = null;
  /** The delivery being applied (between deliveryStart and deliveryEnd). */
  private delivery: DeliveryRecord | null = null;
  /** The FUSE request whose handler is on the stack (null: none). */
  private inHandlerUnique: FuseUnique | null = null;
  private inHandlerAt: Nanos = 0;

  constructor(window = DEFAULT_WINDOW) {
    this.origins = new Ring(window);
    this.peers = new Ring(window);
  }

  // ---- FUSE session ----

  /** A FUSE request is about to be handled (no allocation: this runs for every request). */
  requestIn(unique: FuseUnique, at: Nanos): void {
    this.inHandlerUnique = unique;
    this.inHandlerAt = at;
  }

  /** Its handler returned; `pending`: with a promise, so the request stays open until replied(). */
  handlerReturned(pending: boolean): void {
    const unique = this.inHandlerUnique;
    this.inHandlerUnique = null;
    if (unique === null || !pending) return;
    this.openRequests.set(unique, this.inHandlerAt);
    if (this.openRequests.size > MAX_OPEN) this.openRequests.delete(this.openRequests.keys().next().value!);
  }

  /** The reply of an asynchronously answered request went out; its write(2) started at `start`. */
  replied(unique: FuseUnique, start: Nanos): void {
    if (!this.openRequests.delete(unique)) return;
    const spans = this.awaitingReply.get(unique);
    if (spans === undefined) return;
    this.awaitingReply.delete(unique);
    const at = nowNs();
    for (const s of spans) {
      s.replyStart = start;
      s.reply = at;
      this.origins.push(s);
    }
  }

  // ---- origin (DcdbClient, DfsmRunner, CpgGroup) ----

  /**
   * DcdbClient.submit entered. The span belongs to the FUSE request whose handler is running, else
   * to the newest one still open (exact with one request in flight, the benchmarks' case).
   */
  begin(): OriginSpan {
    let fuseUnique: FuseUnique | null = null;
    let fuseIn = 0;
    if (this.inHandlerUnique !== null) {
      fuseUnique = this.inHandlerUnique;
      fuseIn = this.inHandlerAt;
    } else {
      for (const [unique, at] of this.openRequests) {
        fuseUnique = unique;
        fuseIn = at;
      }
    }
    return {
      fuseIn, fuseUnique, submit: nowNs(), quorum: 0, encoded: 0, mcastStart: 0, mcastEnd: 0,
      count: -1, delivery: null, result: 0, replyStart: 0, reply: 0,
    };
  }

  /** The span's message is being handed to the DFSM/transport now (synchronously). */
  submitting(s: OriginSpan): void {
    this.active = s;
  }

  submitted(): void {
    this.active = null;
  }

  /** The DFSM gave the message its count (inside submitting/submitted). */
  sent(count: number): void {
    const s = this.active;
    if (s === null) return;
    s.count = count;
    this.awaitingResult.set(count, s);
    if (this.awaitingResult.size > MAX_OPEN) this.awaitingResult.delete(this.awaitingResult.keys().next().value!);
  }

  /** cpg_mcast_joined was called from start to end (inside submitting/submitted only). */
  mcast(start: Nanos, end: Nanos): void {
    const s = this.active;
    if (s === null) return;
    s.mcastStart = start;
    s.mcastEnd = end;
  }

  /** The result for our own message `count` is being reported (inside its delivery). */
  resultOf(count: number): void {
    const s = this.awaitingResult.get(count);
    if (s === undefined) return;
    this.awaitingResult.delete(count);
    s.delivery = this.delivery;
  }

  /** The submit resumed with its result; the span now waits for the FUSE reply (or ends here). */
  finished(s: OriginSpan): void {
    s.result = nowNs();
    if (s.fuseUnique !== null && (this.openRequests.has(s.fuseUnique) || this.inHandlerUnique === s.fuseUnique)) {
      const list = this.awaitingReply.get(s.fuseUnique);
      if (list === undefined) this.awaitingReply.set(s.fuseUnique, [s]);
      else list.push(s);
      if (this.awaitingReply.size > MAX_OPEN) this.awaitingReply.delete(this.awaitingReply.keys().next().value!);
    } else {
      this.origins.push(s);
    }
  }

  // ---- delivery (every node) ----

  /** A dcdb NORMAL message (`own`: sent by this daemon) is being delivered; `wake`: its dispatch started. */
  deliveryStart(wake: Nanos, own: boolean): void {
    const at = nowNs();
    this.delivery = { wake: wake > 0 && wake <= at ? wake : at, deliver: at, applyStart: 0, commitStart: 0, commitEnd: 0, applyEnd: 0, own };
  }

  applyStart(): void {
    if (this.delivery !== null && this.delivery.applyStart === 0) this.delivery.applyStart = nowNs();
  }

  /** A SQLite commit ran from start to end (counted once per delivery: the first). */
  commit(start: Nanos, end: Nanos): void {
    const d = this.delivery;
    if (d === null || d.commitStart !== 0) return;
    d.commitStart = start;
    d.commitEnd = end;
  }

  applyEnd(): void {
    if (this.delivery !== null) this.delivery.applyEnd = nowNs();
  }

  deliveryEnd(): void {
    const d = this.delivery;
    this.delivery = null;
    if (d !== null && !d.own) this.peers.push(d);
  }

  // ---- reading ----

  summary(): SpansSummary {
    const origins = this.origins.toArray();
    const peers = this.peers.toArray();
    return {
      window: this.origins.size,
      writes: origins.length,
      origin: summarise(origins, ORIGIN_STAGES),
      peerDeliveries: peers.length,
      peer: summarise(peers, DELIVERY_STAGES),
    };
  }

  reset(): void {
    this.origins.clear();
    this.peers.clear();
  }
}

/** The daemon's one instance (one daemon per process). */
export const writeSpans = new WriteSpans();
