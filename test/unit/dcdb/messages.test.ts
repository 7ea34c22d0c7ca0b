import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DcdbMessageType,
  decodeFsMessage,
  decodeFsOp,
  decodeUnlockMessage,
  encodeFsOp,
  encodeUnlockMessage,
} from '../../../src/dcdb/messages';
import { decodeUpdate, encodeUpdate } from '../../../src/dcdb/update';
import { WireError } from '../../../src/dfsm/wire';
import type { DbRow, FsOp } from '../../../src/memdb/types';

/** The 20-byte fixed part and the strings/data, written by hand. */
function fsPayload(size: number, offset: number, path: string | null, to: string | null, flags: number, data = Buffer.alloc(0)): Buffer {
  const p = path === null ? Buffer.alloc(0) : Buffer.from(path + '\0', 'utf8');
  const t = to === null ? Buffer.alloc(0) : Buffer.from(to + '\0', 'utf8');
  const head = Buffer.alloc(20);
  head.writeUInt32LE(size, 0);
  head.writeUInt32LE(offset, 4);
  head.writeUInt32LE(p.length, 8);
  head.writeUInt32LE(t.length, 12);
  head.writeUInt32LE(flags, 16);
  return Buffer.concat([head, p, t, data]);
}

describe('dcdb messages: byte-exact vectors (spec §5.1)', () => {
  const cases: Array<[string, FsOp, number, Buffer]> = [
    ['WRITE', { kind: 'write', path: 'nodes/n1/x.cfg', offset: 3, data: Buffer.from('hello'), truncate: false }, 1,
      fsPayload(5, 3, 'nodes/n1/x.cfg', null, 0, Buffer.from('hello'))],
    ['truncate', { kind: 'write', path: 'a', offset: 100, data: Buffer.alloc(0), truncate: true }, 1, fsPayload(0, 100, 'a', null, 1)],
    ['MKDIR', { kind: 'mkdir', path: 'priv/lock/x' }, 2, fsPayload(0, 0, 'priv/lock/x', null, 0)],
    ['DELETE', { kind: 'delete', path: 'a/b' }, 3, fsPayload(0, 0, 'a/b', null, 0)],
    ['RENAME', { kind: 'rename', path: 'corosync.conf.new', to: 'corosync.conf' }, 4, fsPayload(0, 0, 'corosync.conf.new', 'corosync.conf', 0)],
    ['CREATE', { kind: 'create', path: 'f' }, 5, fsPayload(0, 0, 'f', null, 0)],
    ['MTIME', { kind: 'mtime', path: 'priv/lock/x', mtime: 1716890000 }, 6, fsPayload(0, 1716890000, 'priv/lock/x', null, 0)],
  ];

  for (const [name, op, subtype, bytes] of cases) {
    it(`${name}: encodes to the hand-built bytes and decodes back`, () => {
      const enc = encodeFsOp(op);
      expect(enc?.subtype).toBe(subtype);
      expect(enc?.payload.toString('hex')).toBe(bytes.toString('hex'));
      expect(decodeFsOp(subtype, bytes)).toEqual({ ok: true, value: op });
    });
  }

  it('UNLOCK_REQUEST / UNLOCK: csum[32] | path NUL', () => {
    const csum = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) csum[i] = i;
    const expected = Buffer.concat([csum, Buffer.from('priv/lock/foo\0')]);
    expect(encodeUnlockMessage({ csum, path: 'priv/lock/foo' }).equals(expected)).toBe(true);
    for (const type of [DcdbMessageType.UNLOCK_REQUEST, DcdbMessageType.UNLOCK]) {
      const d = decodeUnlockMessage(type, expected);
      expect(d.ok && d.value.path === 'priv/lock/foo' && d.value.csum.equals(csum)).toBe(true);
    }
  });

  it('UPDATE record: 41-byte packed fixed part, name NUL, data', () => {
    const row: DbRow = { inode: 9, parent: 2, version: 12, writer: 3, mtime: 1716890000, type: 8, name: 'x.cfg', data: Buffer.from('DATA') };
    const expected = Buffer.alloc(41 + 6 + 4);
    expected.writeBigUInt64LE(2n, 0);
    expected.writeBigUInt64LE(9n, 8);
    expected.writeBigUInt64LE(12n, 16);
    expected.writeUInt32LE(3, 24);
    expected.writeUInt32LE(1716890000, 28);
    expected.writeUInt32LE(4, 32);
    expected.writeUInt32LE(6, 36);
    expected.writeUInt8(8, 40);
    expected.write('x.cfg\0DATA', 41, 'latin1');
    expect(encodeUpdate(row).toString('hex')).toBe(expected.toString('hex'));
    expect(decodeUpdate(expected)).toEqual({ ok: true, value: row });
    // The root (inode 0): a directory named "" -> namelen 1, no data.
    const root: DbRow = { inode: 0, parent: 0, version: 12, writer: 3, mtime: 5, type: 4, name: '', data: null };
    const r = encodeUpdate(root);
    expect(r.length).toBe(42);
    expect(r.readUInt32LE(36)).toBe(1);
    expect(decodeUpdate(r)).toEqual({ ok: true, value: root });
  });
});

describe('dcdb messages: validation', () => {
  const code = (r: { ok: boolean; error?: WireError }) => (r.ok ? 'ok' : r.error!.code);

  it('checks the total length exactly', () => {
    const good = fsPayload(2, 0, 'a', null, 0, Buffer.from('xy'));
    expect(code(decodeFsMessage(1, good))).toBe('ok');
    expect(code(decodeFsMessage(1, Buffer.concat([good, Buffer.alloc(1)])))).toBe('length');
    expect(code(decodeFsMessage(1, good.subarray(0, good.length - 1)))).toBe('length');
    expect(code(decodeFsMessage(1, good.subarray(0, 19)))).toBe('short');
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0xffffffff, 0);
    expect(code(decodeFsMessage(1, bad))).toBe('length');
  });

  it('requires NUL-terminated strings, a path, a rename target, a known type', () => {
    const noNul = fsPayload(0, 0, 'ab', null, 0);
    noNul[20 + 2] = 0x41;
    expect(code(decodeFsMessage(2, noNul))).toBe('string');
    expect(code(decodeFsOp(2, fsPayload(0, 0, null, null, 0)))).toBe('range');
    expect(code(decodeFsOp(4, fsPayload(0, 0, 'a', null, 0)))).toBe('range');
    expect(code(decodeFsMessage(9, fsPayload(0, 0, 'a', null, 0)))).toBe('type');
    expect(code(decodeUnlockMessage(7, Buffer.alloc(32)))).toBe('short');
    expect(code(decodeUnlockMessage(7, Buffer.alloc(34, 1)))).toBe('string');
  });

  it('UPDATE: exact length, known type, no data for directories', () => {
    const row: DbRow = { inode: 3, parent: 0, version: 3, writer: 0, mtime: 0, type: 4, name: 'd', data: null };
    const good = encodeUpdate(row);
    expect(code(decodeUpdate(good.subarray(0, 40)))).toBe('short');
    expect(code(decodeUpdate(Buffer.concat([good, Buffer.alloc(1)])))).toBe('length');
    const badType = Buffer.from(good);
    badType[40] = 1;
    expect(code(decodeUpdate(badType))).toBe('type');
    const dirData = Buffer.concat([good, Buffer.alloc(1)]);
    dirData.writeUInt32LE(1, 32);
    expect(code(decodeUpdate(dirData))).toBe('range');
  });

  it('never throws on random or mutated bytes (property)', () => {
    const valid = [
      fsPayload(5, 3, 'nodes/n1/x.cfg', null, 0, Buffer.from('hello')),
      fsPayload(0, 0, 'a', 'b', 0),
      encodeUnlockMessage({ csum: Buffer.alloc(32, 7), path: 'priv/lock/x' }),
      encodeUpdate({ inode: 9, parent: 2, version: 12, writer: 3, mtime: 1, type: 8, name: 'x', data: Buffer.from('abc') }),
    ];
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)),
      fc
        .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat({ max: 200 }))
        .map(([base, flips, cut]) => {
          const b = Buffer.from(base);
          for (const [at, v] of flips) b[at % b.length] = v;
          return b.subarray(0, Math.min(b.length, cut));
        }),
    );
    fc.assert(
      fc.property(bytes, fc.integer({ min: 0, max: 10 }), (buf, type) => {
        for (const r of [decodeFsMessage(type, buf), decodeFsOp(type, buf), decodeUnlockMessage(type, buf), decodeUpdate(buf)]) {
          if (!r.ok) expect(r.error).toBeInstanceOf(WireError);
        }
        const op = decodeFsOp(type, buf);
        if (op.ok) {
          // A decoded operation survives encode -> decode unchanged.
          const again = encodeFsOp(op.value)!;
          expect(decodeFsOp(again.subtype, again.payload)).toEqual(op);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
