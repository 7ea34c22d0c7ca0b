import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fnv1a64, fnv1a64CString } from '../../../src/kvstore/fnv';
import { escapeClusterLogMessage } from '../../../src/kvstore/clog-escape';
import { decodeLogEntry, encodeLogEntry, packEntry } from '../../../src/kvstore/clog-entry';
import { ClusterLog, decodeClusterLogState, CLOG_DEFAULT_SIZE } from '../../../src/kvstore/clusterlog';
import { renderClusterLog } from '../../../src/status/clusterlog';

// FNV-1a 64 the way the reference's C writes it: multiply by the prime as a sum of shifts.
function fnvShiftAdd(bytes: number[]): bigint {
  const M = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h + (h << 1n) + (h << 4n) + (h << 5n) + (h << 7n) + (h << 8n) + (h << 40n)) & M;
  }
  return h;
}
const cstr = (s: string) => [...Buffer.from(s, 'utf8'), 0];

describe('FNV-1a 64', () => {
  it('matches published vectors', () => {
    expect(fnv1a64(Buffer.alloc(0))).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(Buffer.from('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(Buffer.from('foobar'))).toBe(0x85944171f73967e8n);
  });
  it('hashes C strings including the NUL, like the reference', () => {
    for (const s of ['', 'node1', 'root@pam', 'ü-ß']) {
      expect(fnv1a64CString(s)).toBe(fnvShiftAdd(cstr(s)));
    }
    expect(fnv1a64CString('')).toBe(fnvShiftAdd([0]));
    expect(fnv1a64CString('')).not.toBe(0xcbf29ce484222325n);
  });
});

describe('message escaping', () => {
  const esc = (m: string | Uint8Array) => escapeClusterLogMessage(m, 4000);
  it('escapes quotes, controls and DEL, keeps backslash', () => {
    expect(esc('say "hi"')).toBe('say \\"hi\\"');
    expect(esc('a\nb\tc\x7f')).toBe('a#010b#009c#127');
    expect(esc('back\\slash')).toBe('back\\slash');
  });
  it('writes BMP characters as \\uXXXX and drops others', () => {
    expect(esc('grüße €')).toBe('gr\\u00fc\\u00dfe \\u20ac');
    expect(esc('a😀b')).toBe('ab');
  });
  it('treats invalid UTF-8 byte-wise', () => {
    expect(esc(Buffer.from([0x61, 0xff, 0x22, 0x0a, 0x7f, 0xc3, 0x62]))).toBe('a?\\"#010??b');
  });
  it('stops at NUL and respects the buffer size', () => {
    expect(esc(Buffer.from([0x61, 0, 0x62]))).toBe('a');
    expect(escapeClusterLogMessage('x'.repeat(100), 20)).toBe('x'.repeat(13));
    expect(escapeClusterLogMessage('€'.repeat(100), 20)).toBe('\\u20ac'.repeat(3));
  });
});

describe('entry codec', () => {
  it('packs the byte layout of spec §11.1', () => {
    const e = packEntry({ node: 'n1', ident: 'root', tag: 'cluster', pid: 0x01020304, time: 0x11223344, priority: 6, msg: 'hi' }, 7)!;
    const expected = Buffer.alloc(48 + 3 + 5 + 8 + 3);
    expected.writeUInt32LE(7, 8);
    expected.writeUInt32LE(0x11223344, 12);
    expected.writeBigUInt64LE(fnvShiftAdd(cstr('n1')), 16);
    expected.writeBigUInt64LE(fnvShiftAdd(cstr('root')), 24);
    expected.writeUInt32LE(0x01020304, 32);
    expected[36] = 6;
    expected[37] = 3;
    expected[38] = 5;
    expected[39] = 8;
    expected.writeUInt32LE(3, 40);
    Buffer.from('n1\0root\0cluster\0hi\0', 'latin1').copy(expected, 44);
    expect(e.bytes.equals(expected)).toBe(true);
    expect(encodeLogEntry(e).equals(expected)).toBe(true);
    const back = decodeLogEntry(expected);
    expect(back.ok && back.value).toMatchObject({ uid: 7, time: 0x11223344, node: 'n1', ident: 'root', tag: 'cluster', msg: 'hi', priority: 6, pid: 0x01020304 });
  });

  it('cuts node/ident/tag to 254 bytes and caps the entry at 4096', () => {
    const long = 'x'.repeat(300);
    // 3279 ASCII bytes then one 6-byte escape overshoots the 4096 cap by 3 bytes
    const e = packEntry({ node: long, ident: long, tag: long, pid: 1, time: 1, priority: 0, msg: 'y'.repeat(3279) + '€' }, 1)!;
    expect(e.node.length).toBe(254);
    expect(e.bytes[37]).toBe(255);
    expect(e.bytes.length).toBe(4096);
    // digest over the first 255 bytes of the original, as the reference does
    expect(e.nodeDigest).toBe(fnvShiftAdd([...Buffer.from(long).subarray(0, 255)]));
    // the cut message keeps its text and NUL in the trailing 4 bytes
    expect(e.msg.length).toBe(4096 - 44 - 765 - 2);
    expect(e.msg.endsWith('y\\u20ac')).toBe(true);
    expect(e.bytes.readUInt32LE(40)).toBe(3285 + 1 - 3);
    expect(e.bytes[4094]).toBe(0);
    const plain = packEntry({ node: long, ident: long, tag: long, pid: 1, time: 1, priority: 0, msg: 'y'.repeat(5000) }, 1)!;
    expect(plain.bytes.length).toBe(4094);
    expect(plain.msg.length).toBe(4096 - 44 - 765 - 7);
    // ... which the reference's LOG check rejects as unterminated
    const d = decodeLogEntry(e.bytes);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.error.code).toBe('string');
  });

  it('rejects bad priorities and malformed LOG payloads with typed errors', () => {
    expect(packEntry({ node: 'n', ident: 'i', tag: 't', pid: 1, time: 1, priority: 8, msg: 'm' }, 1)).toBeUndefined();
    const good = packEntry({ node: 'n', ident: 'i', tag: 't', pid: 1, time: 1, priority: 1, msg: 'm' }, 1)!.bytes;
    expect(decodeLogEntry(good.subarray(0, 40)).ok).toBe(false);
    expect(decodeLogEntry(Buffer.concat([good, Buffer.alloc(1)])).ok).toBe(false);
    const unterminated = Buffer.from(good);
    unterminated[45] = 0x41; // node "n\0" -> "nA"
    expect(!decodeLogEntry(unterminated).ok && 'string').toBe('string');
  });

  it('never throws on random or mutated LOG payloads', () => {
    const good = packEntry({ node: 'node1', ident: 'root@pam', tag: 'tag', pid: 9, time: 99, priority: 3, msg: 'hello' }, 3)!.bytes;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeLogEntry(Buffer.from(bytes));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(good.length), (muts, cut) => {
        const b = Buffer.from(good.subarray(0, cut === 0 ? good.length : cut));
        for (const [i, v] of muts) if (i < b.length) b[i] = v;
        const r = decodeLogEntry(b);
        if (r.ok) expect(r.value.bytes.length).toBe(b.length);
        else expect(r.error.code).toMatch(/^(short|length|string|range)$/);
      }),
      { numRuns: 3000 },
    );
  });
});

const fields = (node: string, time: number, msg: string) => ({ node, ident: 'root', tag: 'test', pid: 42, time, priority: 6, msg });

describe('ring buffer', () => {
  it('keeps the newest entries through 5,000 inserts with wrap-around', () => {
    const log = new ClusterLog();
    for (let i = 1; i <= 5000; i++) log.add(fields('node1', 1000 + i, `message number ${i} ${'p'.repeat(i % 97)}`));
    const entries = log.entriesNewestFirst();
    expect(entries.length).toBeGreaterThan(500);
    expect(entries.length).toBeLessThan(5000);
    entries.forEach((e, k) => {
      expect(e.uid).toBe(5000 - k);
      expect(e.msg.startsWith(`message number ${5000 - k} `)).toBe(true);
    });
    const used = entries.reduce((n, e) => n + ((e.bytes.length + 7) & ~7), 0);
    expect(used).toBeLessThanOrEqual(CLOG_DEFAULT_SIZE - 8);
    expect(used).toBeGreaterThan(CLOG_DEFAULT_SIZE - 8 - 2 * 4096);
    // the buffer decodes as a state too
    const raw = log.bytes();
    const decoded = decodeClusterLogState(raw);
    expect(decoded.ok && decoded.value.map((e) => e.uid)).toEqual(entries.map((e) => e.uid));
  });

  it('lays out the first entries exactly', () => {
    const log = new ClusterLog();
    const a = log.add(fields('n1', 10, 'a'))!;
    const b = log.add(fields('n1', 11, 'bb'))!;
    const raw = log.bytes();
    expect(raw.readUInt32LE(0)).toBe(CLOG_DEFAULT_SIZE);
    const aReal = (a.bytes.length + 7) & ~7;
    expect(raw.readUInt32LE(4)).toBe(8 + aReal);
    expect(raw.readUInt32LE(8)).toBe(0); // a.prev
    expect(raw.readUInt32LE(12)).toBe(8 + aReal); // a.next
    expect(raw.readUInt32LE(8 + aReal)).toBe(8); // b.prev
    expect(raw.readUInt32LE(8 + aReal + 4)).toBe(8 + aReal + ((b.bytes.length + 7) & ~7));
    expect(raw.subarray(8 + 8, 8 + a.bytes.length).equals(a.bytes.subarray(8))).toBe(true);
  });

  it('inserts only strictly newer entries per node', () => {
    const log = new ClusterLog();
    const e1 = packEntry(fields('n2', 100, 'x'), 5)!;
    expect(log.insert(e1)).toBe(true);
    expect(log.insert(e1)).toBe(false);
    expect(log.insert(packEntry(fields('n2', 99, 'older'), 9)!)).toBe(false);
    expect(log.insert(packEntry(fields('n2', 100, 'same time lower uid'), 4)!)).toBe(false);
    expect(log.insert(packEntry(fields('n2', 100, 'same time higher uid'), 6)!)).toBe(true);
    expect(log.insert(packEntry(fields('n3', 50, 'other node'), 1)!)).toBe(true);
    expect(log.entriesNewestFirst().map((e) => e.msg)).toEqual(['other node', 'same time higher uid', 'x']);
  });

  it('renders newest first through the .clusterlog renderer', () => {
    const log = new ClusterLog();
    log.add({ node: 'node1', ident: 'root', tag: 'cluster', pid: 987, time: 1716890000, priority: 6, msg: 'starting cluster log' });
    log.add({ node: 'node1', ident: 'root@pam', tag: 'pvedaemon', pid: 1234, time: 1716890100, priority: 6, msg: 'starting "task"' });
    expect(renderClusterLog(log.entriesNewestFirst())).toBe(
      '{\n"data": [\n' +
        '{"uid": 2, "time": 1716890100, "pri": 6, "tag": "pvedaemon", "pid": 1234, "node": "node1", "user": "root@pam", "msg": "starting \\"task\\""},\n' +
        '{"uid": 1, "time": 1716890000, "pri": 6, "tag": "cluster", "pid": 987, "node": "node1", "user": "root", "msg": "starting cluster log"}\n' +
        ']\n}\n',
    );
    expect(renderClusterLog(log.entriesNewestFirst(), { ident: 'root' })).toContain('"uid": 1,');
    expect(renderClusterLog(log.entriesNewestFirst(), { ident: 'root' })).not.toContain('"uid": 2,');
  });
});

describe('state and merge', () => {
  function nodeLog(node: string, times: number[]): ClusterLog {
    const log = new ClusterLog();
    for (const t of times) log.add(fields(node, t, `${node} at ${t}`));
    return log;
  }

  it('state is the ring sorted by (time, node digest, uid)', () => {
    const log = new ClusterLog();
    log.insert(packEntry(fields('b', 30, 'late'), 1)!);
    log.insert(packEntry(fields('a', 10, 'early'), 1)!);
    log.insert(packEntry(fields('c', 20, 'middle'), 1)!);
    const state = log.state();
    expect(state.length).toBe(CLOG_DEFAULT_SIZE);
    const d = decodeClusterLogState(state);
    expect(d.ok && d.value.map((e) => e.msg)).toEqual(['late', 'middle', 'early']);
    expect(log.entriesNewestFirst().map((e) => e.msg)).toEqual(['late', 'middle', 'early']);
  });

  it('merges 3 buffers identically on every node, whatever the order', () => {
    const times = (start: number) => Array.from({ length: 600 }, (_, i) => start + i * 3);
    const a = nodeLog('node1', times(1000));
    const b = nodeLog('node2', times(1001));
    const c = nodeLog('node3', times(1000)); // same times as node1: ties broken by digest
    // cross-deliveries before the partition healed
    b.insert(a.entriesNewestFirst()[5]!);
    const states = [a.state(), b.state(), c.state()];
    const results = [
      [a, [states[1]!, states[2]!]],
      [b, [states[2]!, states[0]!, states[1]!]],
      [c, [states[1]!, states[0]!]],
    ] as const;
    for (const [log, others] of results) log.merge(others);
    const ra = a.bytes();
    expect(b.bytes().equals(ra)).toBe(true);
    expect(c.bytes().equals(ra)).toBe(true);
    const merged = a.entriesNewestFirst();
    // the newest entries of every node survive, no duplicates, sorted newest first
    const keys = merged.map((e) => `${e.time}/${e.node}/${e.uid}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(merged[0]!.time).toBe(1001 + 599 * 3);
    for (let i = 1; i < merged.length; i++) expect(merged[i - 1]!.time).toBeGreaterThanOrEqual(merged[i]!.time);
    const used = merged.reduce((n, e) => n + ((e.bytes.length + 7) & ~7), 0);
    expect(used).toBeGreaterThanOrEqual(CLOG_DEFAULT_SIZE - 8 - 4096);
    // dedup rebuilt: an old entry of node2 is not inserted again
    expect(a.insert(b.entriesNewestFirst()[0]!)).toBe(false);
  });

  it('skips undecodable states and reports them', () => {
    const a = nodeLog('node1', [1, 2, 3]);
    const bad = Buffer.alloc(64);
    const { rejected } = a.merge([bad, Buffer.alloc(4)]);
    expect(rejected.map((r) => r.index)).toEqual([0, 1]);
    expect(a.entriesNewestFirst().length).toBe(3);
  });

  it('never throws on random or mutated states', () => {
    const small = nodeLog('node1', [1, 2, 3, 4, 5]).state();
    const n = small.readUInt32LE(4) + 200;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(n), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (muts) => {
        const b = Buffer.from(small);
        for (const [i, v] of muts) b[i] = v;
        const r = decodeClusterLogState(b);
        if (!r.ok) expect(r.error.code).toMatch(/^(short|length|string|range)$/);
        const log = new ClusterLog();
        log.merge([b]);
        expect(Array.isArray(log.entriesNewestFirst())).toBe(true);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b = Buffer.from(bytes);
        if (b.length >= 4) b.writeUInt32LE(b.length, 0);
        expect(typeof decodeClusterLogState(b).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('merge property', () => {
  it('gives identical buffers for any distribution and order of the same entries', () => {
    const entryArb = fc.record({
      node: fc.constantFrom('node1', 'node2', 'node3', 'node4'),
      time: fc.integer({ min: 1000, max: 1100 }),
      uid: fc.integer({ min: 1, max: 50 }),
      msg: fc.string({ maxLength: 300 }),
      holders: fc.subarray([0, 1, 2], { minLength: 1 }),
    });
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 600 }), fc.integer({ min: 0, max: 5 }), (specs, rotation) => {
        const logs = [new ClusterLog(), new ClusterLog(), new ClusterLog()];
        for (const s of specs) {
          const e = packEntry({ node: s.node, ident: 'root', tag: 't', pid: 1, time: s.time, priority: 6, msg: s.msg }, s.uid)!;
          for (const h of s.holders) logs[h]!.insert(e);
        }
        const states = logs.map((l) => l.state());
        const perms = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2], [2, 1, 0]];
        const perm = perms[rotation]!;
        logs.forEach((l, i) => l.merge(perm.filter((j) => j !== i).map((j) => states[j]!)));
        expect(logs[1]!.bytes().equals(logs[0]!.bytes())).toBe(true);
        expect(logs[2]!.bytes().equals(logs[0]!.bytes())).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
