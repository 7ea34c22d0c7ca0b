/**
 * FuseSession against a fake /dev/fuse: the device hands out queued requests (then EAGAIN) and
 * collects the replies; koffi's poll is replaced so the test decides when the device is "readable".
 * Malformed requests, unknown opcodes and failing handlers must leave the session serving.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import koffi from 'koffi';
import { IN_HEADER_SIZE, INIT_OUT_SIZE, OUT_HEADER_SIZE, Opcode } from '../../../src/fuse/kernel/abi';
import type { DevFuse } from '../../../src/fuse/kernel/dev-fuse';
import { FuseSession, type Handler, type SessionOptions } from '../../../src/fuse/kernel/session';

const EAGAIN = 11;
const EINTR = 4;
const ENOENT = 2;
const ENODEV = 19;
const EIO = 5;
const ENOSYS = 38;
const EPROTO = 71;

/** What the fake device's read() yields next: a request, or -errno. */
type ReadResult = Buffer | number;

class FakeDev {
  readonly fd = -1;
  readonly queue: ReadResult[] = [];
  readonly replies: Buffer[] = [];
  writeResult = 0;

  read(buf: Buffer): number {
    const next = this.queue.shift();
    if (next === undefined) return -EAGAIN;
    if (typeof next === 'number') return next;
    next.copy(buf);
    return next.length;
  }

  write(reply: Buffer): number {
    this.replies.push(Buffer.from(reply));
    return this.writeResult;
  }
}

interface Reply {
  len: number;
  error: number;
  unique: bigint;
  body: Buffer;
}

function decodeReply(b: Buffer): Reply {
  return { len: b.readUInt32LE(0), error: b.readInt32LE(4), unique: b.readBigUInt64LE(8), body: b.subarray(OUT_HEADER_SIZE) };
}

function request(opcode: number, unique: bigint, nodeid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(IN_HEADER_SIZE);
  h.writeUInt32LE(IN_HEADER_SIZE + body.length, 0);
  h.writeUInt32LE(opcode, 4);
  h.writeBigUInt64LE(unique, 8);
  h.writeBigUInt64LE(BigInt(nodeid), 16);
  return Buffer.concat([h, body]);
}

function initBody(major: number, minor: number, flags: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(major, 0);
  b.writeUInt32LE(minor, 4);
  b.writeUInt32LE(65536, 8);
  b.writeUInt32LE(flags, 12);
  return b;
}

let dev: FakeDev;
let readable: () => void;
let pollStopped: number;
let logs: { level: string; msg: string }[];
let gone: number;

beforeEach(() => {
  dev = new FakeDev();
  pollStopped = 0;
  logs = [];
  gone = 0;
  vi.spyOn(koffi.node, 'poll').mockImplementation(((_fd: number, _events: unknown, cb: () => void) => {
    readable = cb;
    return { stop: () => pollStopped++, close: () => undefined };
  }) as unknown as typeof koffi.node.poll);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function startSession(handlers: Partial<Record<number, Handler>>, extra: Partial<SessionOptions> = {}): FuseSession {
  const s = new FuseSession(
    dev as unknown as DevFuse,
    {
      handlers,
      init: (_minor, flags, maxReadahead) => ({ maxReadahead, flags, maxBackground: 12, congestionThreshold: 9, maxWrite: 4096, maxPages: 1 }),
      spinMicros: 0,
      log: (level, msg) => logs.push({ level, msg }),
      onGone: () => gone++,
      ...extra,
    },
    4096,
  );
  s.start();
  return s;
}

const handlers: Partial<Record<number, Handler>> = {
  [Opcode.GETATTR]: (h) => Buffer.from(`attr-of-${h.nodeid}`),
  [Opcode.LOOKUP]: () => -ENOENT,
  [Opcode.READLINK]: () => {
    throw new Error('handler bug');
  },
  [Opcode.OPEN]: async () => Buffer.from('opened'),
  [Opcode.FORGET]: () => null,
};

describe('FuseSession with a misbehaving device', () => {
  it('a request shorter than the header is logged and skipped; the next one is answered', () => {
    startSession(handlers);
    dev.queue.push(Buffer.alloc(IN_HEADER_SIZE - 1, 0xaa), Buffer.alloc(3), request(Opcode.GETATTR, 7n, 5));
    readable();
    expect(dev.replies.map(decodeReply)).toEqual([{ len: OUT_HEADER_SIZE + 9, error: 0, unique: 7n, body: Buffer.from('attr-of-5') }]);
    expect(logs.filter((l) => l.level === 'err' && l.msg.includes('short request'))).toHaveLength(2);
    expect(gone).toBe(0);
  });

  it('an unknown opcode gets ENOSYS and serving goes on; INTERRUPT/FORGET without handler get no reply', () => {
    startSession({ [Opcode.GETATTR]: handlers[Opcode.GETATTR] });
    dev.queue.push(request(9999, 1n, 1), request(Opcode.INTERRUPT, 2n, 0), request(Opcode.BATCH_FORGET, 3n, 0), request(Opcode.FORGET, 4n, 9), request(Opcode.GETATTR, 5n, 1));
    readable();
    const replies = dev.replies.map(decodeReply);
    expect(replies.map((r) => [r.unique, r.error])).toEqual([
      [1n, -ENOSYS],
      [5n, 0],
    ]);
    expect(replies[0]!.len).toBe(OUT_HEADER_SIZE);
    expect(replies[1]!.len).toBe(OUT_HEADER_SIZE + 9);
  });

  it('a handler that throws is answered EIO and logged; a -errno result is the reply error', () => {
    startSession(handlers);
    dev.queue.push(request(Opcode.READLINK, 1n, 2), request(Opcode.LOOKUP, 2n, 1, Buffer.from('x\0')), request(Opcode.FORGET, 3n, 2));
    readable();
    expect(dev.replies.map(decodeReply).map((r) => [r.unique, r.error, r.len])).toEqual([
      [1n, -EIO, OUT_HEADER_SIZE],
      [2n, -ENOENT, OUT_HEADER_SIZE],
    ]);
    expect(logs.some((l) => l.level === 'err' && l.msg.includes('handler bug'))).toBe(true);
  });

  it('a header len larger than what was read: the body is cut at the bytes actually read', () => {
    let seen = -1;
    startSession({ [Opcode.LOOKUP]: (_h, body) => ((seen = body.length), -ENOENT) });
    const r = request(Opcode.LOOKUP, 1n, 1, Buffer.from('abc\0'));
    r.writeUInt32LE(100_000, 0);
    dev.queue.push(r);
    readable();
    expect(seen).toBe(4);
    expect(decodeReply(dev.replies[0]!).error).toBe(-ENOENT);
  });

  it('async handlers are answered when they settle, after later synchronous ones', async () => {
    startSession(handlers);
    dev.queue.push(request(Opcode.OPEN, 1n, 2), request(Opcode.GETATTR, 2n, 2));
    readable();
    expect(dev.replies.map((b) => decodeReply(b).unique)).toEqual([2n]);
    await new Promise((r) => setImmediate(r));
    expect(dev.replies.map((b) => decodeReply(b).unique)).toEqual([2n, 1n]);
    expect(decodeReply(dev.replies[1]!).body.toString()).toBe('opened');
  });

  it('a rejected promise is answered EIO', async () => {
    startSession({ [Opcode.OPEN]: () => Promise.reject(new Error('async bug')) });
    dev.queue.push(request(Opcode.OPEN, 1n, 2));
    readable();
    await new Promise((r) => setImmediate(r));
    expect(decodeReply(dev.replies[0]!).error).toBe(-EIO);
    expect(logs.some((l) => l.msg.includes('async bug'))).toBe(true);
  });

  it('EINTR and ENOENT from read are retried; requests after them are served', () => {
    startSession(handlers);
    dev.queue.push(-EINTR, -ENOENT, request(Opcode.GETATTR, 1n, 1));
    readable();
    expect(dev.replies).toHaveLength(1);
    expect(gone).toBe(0);
    // readable again later: still serving
    dev.queue.push(request(Opcode.GETATTR, 2n, 1));
    readable();
    expect(dev.replies.map((b) => decodeReply(b).unique)).toEqual([1n, 2n]);
  });

  it('ENODEV from read ends the session once, quietly; requests queued after are not read', () => {
    startSession(handlers);
    dev.queue.push(-ENODEV, request(Opcode.GETATTR, 1n, 1));
    readable();
    expect(gone).toBe(1);
    expect(pollStopped).toBe(1);
    expect(dev.replies).toHaveLength(0);
    expect(logs.filter((l) => l.level === 'err')).toHaveLength(0);
    readable();
    expect(gone).toBe(1);
    expect(dev.replies).toHaveLength(0);
  });

  it('another read error ends the session and is logged', () => {
    startSession(handlers);
    dev.queue.push(-EIO);
    readable();
    expect(gone).toBe(1);
    expect(logs.some((l) => l.level === 'err' && l.msg.includes('errno 5'))).toBe(true);
  });

  it('a failed reply write is logged except ENOENT (interrupted) and ENODEV (unmounted)', () => {
    startSession(handlers);
    dev.writeResult = -ENOENT;
    dev.queue.push(request(Opcode.GETATTR, 1n, 1));
    readable();
    dev.writeResult = -ENODEV;
    dev.queue.push(request(Opcode.GETATTR, 2n, 1));
    readable();
    expect(logs).toHaveLength(0);
    dev.writeResult = -EIO;
    dev.queue.push(request(Opcode.GETATTR, 3n, 1));
    readable();
    expect(logs.filter((l) => l.msg.includes('reply to opcode'))).toHaveLength(1);
  });
});

describe('FuseSession and replies the kernel did not take', () => {
  it('a successful reply refused with ENOENT goes to onUndelivered with its body; errors and other failures do not', () => {
    const undelivered: [number, string][] = [];
    startSession(handlers, { onUndelivered: (h, body) => undelivered.push([h.opcode, body.toString()]) });
    dev.writeResult = -ENOENT;
    dev.queue.push(request(Opcode.GETATTR, 1n, 4), request(Opcode.LOOKUP, 2n, 1));
    readable();
    dev.writeResult = -ENODEV;
    dev.queue.push(request(Opcode.GETATTR, 3n, 6));
    readable();
    expect(undelivered).toEqual([[Opcode.GETATTR, 'attr-of-4']]);
  });
});

describe('FuseSession INIT', () => {
  it('answers fuse_init_out with the lower minor and the flags the init callback chose', () => {
    startSession(handlers);
    dev.queue.push(request(Opcode.INIT, 1n, 0, initBody(7, 40, 0x1234)));
    readable();
    const r = decodeReply(dev.replies[0]!);
    expect(r.error).toBe(0);
    expect(r.body.length).toBe(INIT_OUT_SIZE);
    expect(r.body.readUInt32LE(0)).toBe(7);
    expect(r.body.readUInt32LE(4)).toBe(31);
    expect(r.body.readUInt32LE(8)).toBe(65536);
    expect(r.body.readUInt32LE(12)).toBe(0x1234);
    expect(r.body.readUInt32LE(20)).toBe(4096);
  });

  it('an older kernel minor is answered with that minor', () => {
    startSession(handlers);
    dev.queue.push(request(Opcode.INIT, 1n, 0, initBody(7, 27, 0)));
    readable();
    expect(decodeReply(dev.replies[0]!).body.readUInt32LE(4)).toBe(27);
  });

  it('a short INIT body is EIO, another major EPROTO; serving goes on', () => {
    startSession(handlers);
    dev.queue.push(request(Opcode.INIT, 1n, 0, Buffer.alloc(8)), request(Opcode.INIT, 2n, 0, initBody(8, 0, 0)), request(Opcode.GETATTR, 3n, 1));
    readable();
    expect(dev.replies.map(decodeReply).map((r) => [r.unique, r.error])).toEqual([
      [1n, -EIO],
      [2n, -EPROTO],
      [3n, 0],
    ]);
  });
});
