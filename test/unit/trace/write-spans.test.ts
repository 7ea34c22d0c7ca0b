import { describe, expect, it } from 'vitest';
import { nowNs, quantile, Ring, summarise, WriteSpans, type DeliveryRecord } from '../../../src/trace/write-spans';

function stage(summary: ReturnType<WriteSpans['summary']>, list: 'origin' | 'peer', name: string) {
  const s = summary[list].find((x) => x.stage === name);
  if (s === undefined) throw new Error(`no stage ${name} in ${JSON.stringify(summary[list].map((x) => x.stage))}`);
  return s;
}

describe('quantile', () => {
  it('takes the nearest rank of sorted values', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(v, 0.5)).toBe(50);
    expect(quantile(v, 0.99)).toBe(99);
    expect(quantile(v, 1)).toBe(100);
    expect(quantile([7], 0.5)).toBe(7);
    expect(quantile([], 0.5)).toBe(0);
  });
});

describe('Ring', () => {
  it('keeps the last N records, oldest first', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.length).toBe(3);
    r.clear();
    expect(r.toArray()).toEqual([]);
  });
});

describe('summarise', () => {
  it('reports microseconds per stage and leaves out stages nothing measured', () => {
    const rec = (wake: number, commit: number): DeliveryRecord => ({
      wake, deliver: wake + 10_000, applyStart: wake + 20_000, commitStart: wake + 30_000, commitEnd: wake + 30_000 + commit,
      applyEnd: wake + 40_000 + commit, own: false,
    });
    const rows = summarise([rec(1e9, 100_000), rec(2e9, 300_000), rec(3e9, 200_000)], [
      { name: 'commit', duration: (d) => d.commitEnd - d.commitStart },
      { name: 'never', duration: () => undefined },
    ]);
    expect(rows).toEqual([{ stage: 'commit', count: 3, p50: 200, p90: 300, p99: 300, max: 300 }]);
  });
});

describe('WriteSpans', () => {
  /** One replicated write as the daemon's hooks report it, in order. */
  function write(spans: WriteSpans, unique: bigint, count: number): void {
    spans.requestIn(unique, nowNs());
    const span = spans.begin();
    spans.handlerReturned(true);
    span.quorum = nowNs();
    span.encoded = span.quorum;
    spans.submitting(span);
    spans.sent(count);
    spans.mcast(span.encoded + 1, span.encoded + 2);
    spans.submitted();
    spans.deliveryStart(span.encoded + 3, true);
    spans.applyStart();
    spans.commit(nowNs(), nowNs());
    spans.applyEnd();
    spans.resultOf(count);
    spans.deliveryEnd();
    spans.finished(span);
    spans.replied(unique, nowNs());
  }

  it('links a write from FUSE request to reply through its own delivery', () => {
    const spans = new WriteSpans(8);
    write(spans, 10n, 1);
    write(spans, 11n, 2);
    const s = spans.summary();
    expect(s.writes).toBe(2);
    expect(s.peerDeliveries).toBe(0);
    for (const name of ['fuse-in -> submit', 'cpg_mcast_joined call', 'mcast -> own delivery wake', 'sqlite commit', 'result -> reply', '  of which write(2) reply', 'total (fuse-in -> reply)']) {
      expect(stage(s, 'origin', name).count).toBe(2);
    }
  });

  it('counts deliveries of other nodes separately and keeps only the window', () => {
    const spans = new WriteSpans(4);
    for (let i = 0; i < 10; i++) {
      spans.deliveryStart(0, false);
      spans.applyStart();
      spans.commit(1, 2);
      spans.applyEnd();
      spans.deliveryEnd();
    }
    const s = spans.summary();
    expect(s.peerDeliveries).toBe(4);
    expect(stage(s, 'peer', 'sqlite commit')).toMatchObject({ count: 4, p50: 0 });
    expect(s.writes).toBe(0);
  });

  it('ends a span without FUSE request at its result, and a span whose request never replies stays out', () => {
    const spans = new WriteSpans(8);
    const alone = spans.begin();
    spans.finished(alone);
    expect(spans.summary().writes).toBe(1);
    spans.requestIn(5n, 1);
    const open = spans.begin();
    spans.handlerReturned(true);
    spans.finished(open);
    expect(spans.summary().writes).toBe(1);
    spans.replied(5n, nowNs());
    expect(spans.summary().writes).toBe(2);
    spans.reset();
    expect(spans.summary().writes).toBe(0);
  });
});
