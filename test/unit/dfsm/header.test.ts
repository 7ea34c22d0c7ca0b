import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DfsmMessageType,
  decodeBaseHeader,
  decodeDfsmMessage,
  decodeVerify,
  decodeVerifyRequest,
  encodeNormalMessage,
  encodeStateMessage,
  encodeVerify,
  encodeVerifyRequest,
} from '../../../src/dfsm/header';
import { WireError } from '../../../src/dfsm/wire';

describe('DFSM headers: byte-exact layouts (spec §4.1)', () => {
  it('NORMAL = 16-byte base + count u64 (24 B), then payload', () => {
    const expected = Buffer.alloc(24 + 3);
    expected.writeUInt16LE(0, 0); // type NORMAL
    expected.writeUInt16LE(5, 2); // subtype
    expected.writeUInt32LE(1, 4); // protocol version
    expected.writeUInt32LE(1716890000, 8); // time
    expected.writeUInt32LE(0, 12); // reserved
    expected.writeBigUInt64LE(7n, 16); // count
    expected.write('abc', 24, 'latin1');
    const got = encodeNormalMessage({ subtype: 5, protocolVersion: 1, time: 1716890000, count: 7 }, Buffer.from('abc'));
    expect(got.toString('hex')).toBe(expected.toString('hex'));
    expect(got.length).toBe(27);
  });

  it('state messages = base (subtype 0) + epoch {epoch,time,nodeid,pid} (32 B), then payload', () => {
    const epoch = { epoch: 3, time: 1716890001, nodeid: 2, pid: 4242 };
    const expected = Buffer.alloc(32 + 2);
    expected.writeUInt16LE(2, 0); // STATE
    expected.writeUInt16LE(0, 2);
    expected.writeUInt32LE(1, 4);
    expected.writeUInt32LE(1716890005, 8);
    expected.writeUInt32LE(0, 12);
    expected.writeUInt32LE(3, 16);
    expected.writeUInt32LE(1716890001, 20);
    expected.writeUInt32LE(2, 24);
    expected.writeUInt32LE(4242, 28);
    expected[32] = 0xaa;
    expected[33] = 0xbb;
    const got = encodeStateMessage(DfsmMessageType.STATE, { protocolVersion: 1, time: 1716890005, epoch }, Buffer.from([0xaa, 0xbb]));
    expect(got.toString('hex')).toBe(expected.toString('hex'));
    for (const type of [1, 3, 4] as const) {
      const m = encodeStateMessage(type, { protocolVersion: 0, time: 9, epoch });
      expect(m.length).toBe(32);
      expect(m.readUInt16LE(0)).toBe(type);
    }
  });

  it('VERIFY_REQUEST payload csum_id u64; VERIFY payload csum_id u64 | sha256[32]', () => {
    const req = encodeVerifyRequest(0x0102030405060708n);
    expect(req.toString('hex')).toBe('0807060504030201');
    const csum = Buffer.alloc(32, 0x5a);
    const v = encodeVerify(2n, csum);
    const expected = Buffer.alloc(40);
    expected.writeBigUInt64LE(2n, 0);
    csum.copy(expected, 8);
    expect(v.equals(expected)).toBe(true);
    expect(decodeVerifyRequest(req)).toEqual({ ok: true, value: 0x0102030405060708n });
    const dv = decodeVerify(v);
    expect(dv.ok && dv.value.csumId === 2n && dv.value.csum.equals(csum)).toBe(true);
  });
});

describe('DFSM headers: decoding', () => {
  it('round-trips NORMAL and state messages', () => {
    const n = decodeDfsmMessage(encodeNormalMessage({ subtype: 2, protocolVersion: 1, time: 77, count: 2 ** 40 }, Buffer.from('xy')));
    expect(n.ok).toBe(true);
    if (n.ok && n.value.type === DfsmMessageType.NORMAL) {
      expect(n.value).toMatchObject({ subtype: 2, protocolVersion: 1, time: 77, count: 2 ** 40 });
      expect(n.value.payload.toString()).toBe('xy');
    }
    const epoch = { epoch: 1, time: 2, nodeid: 3, pid: 4 };
    const s = decodeDfsmMessage(encodeStateMessage(DfsmMessageType.VERIFY, { protocolVersion: 0, time: 5, epoch }, Buffer.alloc(40)));
    expect(s.ok && s.value.type === DfsmMessageType.VERIFY && s.value.payload.length === 40).toBe(true);
    if (s.ok && s.value.type !== DfsmMessageType.NORMAL) expect(s.value.epoch).toEqual(epoch);
  });

  it('rejects short, unknown and out-of-range messages with typed errors', () => {
    const short = decodeBaseHeader(Buffer.alloc(15));
    expect(!short.ok && short.error.code).toBe('short');
    const normal23 = Buffer.alloc(23);
    expect((r => !r.ok && r.error.code)(decodeDfsmMessage(normal23))).toBe('short');
    const state31 = Buffer.alloc(31);
    state31.writeUInt16LE(2, 0);
    expect((r => !r.ok && r.error.code)(decodeDfsmMessage(state31))).toBe('short');
    const unknown = Buffer.alloc(32);
    unknown.writeUInt16LE(7, 0);
    expect((r => !r.ok && r.error.code)(decodeDfsmMessage(unknown))).toBe('type');
    const huge = Buffer.alloc(24);
    huge.writeBigUInt64LE(2n ** 63n, 16);
    expect((r => !r.ok && r.error.code)(decodeDfsmMessage(huge))).toBe('range');
    expect((r => !r.ok && r.error.code)(decodeVerifyRequest(Buffer.alloc(9)))).toBe('length');
    expect((r => !r.ok && r.error.code)(decodeVerify(Buffer.alloc(39)))).toBe('length');
  });

  it('never throws on random or mutated bytes (property)', () => {
    const valid = [
      encodeNormalMessage({ subtype: 1, protocolVersion: 1, time: 1, count: 1 }, Buffer.from('hello')),
      encodeStateMessage(DfsmMessageType.VERIFY_REQUEST, { protocolVersion: 1, time: 1, epoch: { epoch: 1, time: 1, nodeid: 1, pid: 1 } }, encodeVerifyRequest(1n)),
    ];
    const arbitraryBytes = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
      fc
        .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 80 }))
        .map(([base, at, byte, cut]) => {
          const b = Buffer.from(base);
          b[at % b.length] = byte;
          return b.subarray(0, Math.min(b.length, cut));
        }),
    );
    fc.assert(
      fc.property(arbitraryBytes, (buf) => {
        for (const r of [decodeBaseHeader(buf), decodeDfsmMessage(buf), decodeVerify(buf), decodeVerifyRequest(buf)]) {
          if (!r.ok) expect(r.error).toBeInstanceOf(WireError);
        }
        const m = decodeDfsmMessage(buf);
        if (m.ok) expect(m.value.payload.length).toBe(buf.length - (m.value.type === 0 ? 24 : 32));
      }),
      { numRuns: 2000 },
    );
  });
});
