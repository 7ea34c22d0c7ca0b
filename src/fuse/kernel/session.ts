/**
 * One FUSE connection served from the event loop: reads every waiting request from /dev/fuse,
 * hands it to the handler of its opcode and writes the reply. Handlers answer with a reply body,
 * -errno, null (no reply: FORGET, INTERRUPT) or a promise of one; replies may go out in any order.
 *
 * Busy polling: waking the event loop for a request costs about as much as the request itself
 * (measured: 47 µs per LOOKUP round trip when sleeping in epoll, 20 µs when polling). So after the
 * last reply, while no request is pending, the session keeps reading for up to `spinMicros` before
 * it goes back to epoll; a program doing one file operation after another (PVE's pattern) finds the
 * daemon awake. Spins that find nothing get shorter (spin-budget.ts), and a spin happens only right
 * after a reply, so an idle daemon uses no CPU.
 */
import {
  FUSE_KERNEL_MINOR_VERSION,
  FUSE_KERNEL_VERSION,
  IN_HEADER_SIZE,
  OUT_HEADER_SIZE,
  Opcode,
  decodeInHeader,
  decodeInitIn,
  writeUnique,
  encodeInitOut,
  type InHeader,
  type InitOut,
} from './abi';
import { DevFuse, EAGAIN, EINTR, ENODEV, ENOENT, yieldCpu } from './dev-fuse';
import koffi from 'koffi';
import { nowNs, writeSpans } from '../../trace/write-spans';
import { spinBudgetFromMicros, type SpinBudget } from './spin-budget';

const ENOSYS = 38;
const EIO = 5;
const EPROTO = 71;

/** What a handler answers: a reply body, -errno, null for "no reply", or a promise of those. */
export type HandlerResult = Buffer | number | null;
/**
 * A request handler. `body` is the request after its header and is only valid until the handler
 * returns or first awaits: copy what is needed later.
 */
export type Handler = (h: InHeader, body: Buffer) => HandlerResult | Promise<HandlerResult>;

export type SessionLog = (level: 'err' | 'debug', msg: string) => void;

export interface SessionOptions {
  /** Handlers by opcode; INIT is answered by the session. Missing opcodes get ENOSYS. */
  handlers: Partial<Record<number, Handler>>;
  /** The INIT reply, given what the kernel offered. */
  init: (kernelMinor: number, kernelFlags: number, maxReadahead: number) => Omit<InitOut, 'minor'>;
  /** Longest busy-poll after a reply (0 = never); spins that find no request get shorter. */
  spinMicros: number;
  log: SessionLog;
  /** Called once when the kernel ends the connection (unmounted from outside, or aborted). */
  onGone: () => void;
  /**
   * A successful reply the kernel did not take (the request was interrupted meanwhile): a handler
   * that counted a kernel reference in it (LOOKUP, MKDIR, CREATE) must take it back.
   */
  onUndelivered?: (h: InHeader, body: Buffer) => void;
}

export class FuseSession {
  private readonly buf: Buffer;
  private poll: ReturnType<typeof koffi.node.poll> | null = null;
  private pending = 0;
  private draining = false;
  private gone = false;
  private readonly spin: SpinBudget;
  /** When the last spin that ran out began (the reply before it), until the next request; else 0. */
  private ranOutAt = 0n;

  /** @param maxWrite the largest WRITE the INIT reply allows; the read buffer must hold one. */
  constructor(private readonly dev: DevFuse, private readonly o: SessionOptions, maxWrite: number) {
    // The kernel refuses reads into buffers smaller than max_write plus a page for the headers.
    this.buf = Buffer.alloc(maxWrite + 8192);
    this.spin = spinBudgetFromMicros(o.spinMicros);
  }

  /** Whether the CPUs have room for long busy-polls (spin-budget.ts, cpu-pressure.ts). */
  spinHasRoom(roomy: boolean): void {
    this.spin.limit(roomy);
  }

  start(): void {
    this.poll = koffi.node.poll(this.dev.fd, { readable: true }, () => this.drain());
  }

  /** Stops reading; requests still in handlers are answered when they finish, if the device is open. */
  stop(): void {
    if (this.poll === null) return;
    const p = this.poll;
    this.poll = null;
    p.stop();
    p.close();
  }

  /** Reads and dispatches until no request is waiting (and the spin, if any, has run out). */
  private drain(): void {
    if (this.draining || this.poll === null) return;
    this.draining = true;
    // When the current spin began (the reply before it); 0 while not spinning.
    let spinStart = 0n;
    try {
      for (;;) {
        const n = this.dev.read(this.buf);
        if (n > 0) {
          // The gap since the last reply, if this request ended a spin or came after one ran out.
          if (spinStart !== 0n) this.spin.arrived(Number(process.hrtime.bigint() - spinStart));
          else if (this.ranOutAt !== 0n) this.spin.arrivedLate(Number(process.hrtime.bigint() - this.ranOutAt));
          this.ranOutAt = 0n;
          spinStart = 0n;
          this.dispatch(n);
          if (this.poll === null) return;
          continue;
        }
        if (n === -EAGAIN) {
          const spinNanos = this.spin.nanos;
          if (spinNanos === 0 || this.pending > 0) return;
          const now = process.hrtime.bigint();
          if (spinStart === 0n) spinStart = now;
          // The budget only changes between spins (arrived/ranOut, or the pressure timer outside drain).
          if (now - spinStart >= BigInt(spinNanos)) {
            this.spin.ranOut();
            this.ranOutAt = spinStart;
            return;
          }
          yieldCpu();
          continue;
        }
        if (n === -EINTR || n === -ENOENT) continue; // ENOENT: a request interrupted before we read it
        this.connectionGone(n);
        return;
      }
    } finally {
      this.draining = false;
    }
  }

  private connectionGone(n: number): void {
    if (this.gone) return;
    this.gone = true;
    this.stop();
    if (n !== -ENODEV) this.o.log('err', `fuse: reading /dev/fuse failed (errno ${-n}); serving stopped`);
    this.o.onGone();
  }

  private dispatch(length: number): void {
    if (length < IN_HEADER_SIZE) {
      this.o.log('err', `fuse: short request of ${length} bytes ignored`);
      return;
    }
    const h = decodeInHeader(this.buf);
    const body = this.buf.subarray(IN_HEADER_SIZE, Math.min(length, h.len));
    if (h.opcode === Opcode.INIT) return this.reply(h, this.answerInit(body));
    const handler = this.o.handlers[h.opcode];
    if (handler === undefined) {
      if (h.opcode !== Opcode.INTERRUPT && h.opcode !== Opcode.FORGET && h.opcode !== Opcode.BATCH_FORGET) {
        this.reply(h, -ENOSYS);
      }
      return;
    }
    let result: HandlerResult | Promise<HandlerResult>;
    writeSpans.requestIn(h.unique, nowNs());
    try {
      result = handler(h, body);
    } catch (err) {
      this.o.log('err', `fuse opcode ${h.opcode} failed: ${(err as Error).stack ?? String(err)}`);
      result = -EIO;
    }
    writeSpans.handlerReturned(result instanceof Promise);
    if (!(result instanceof Promise)) return this.reply(h, result);
    this.pending++;
    result.then(
      (r) => this.settle(h, r),
      (err: unknown) => {
        this.o.log('err', `fuse opcode ${h.opcode} failed: ${(err as Error).stack ?? String(err)}`);
        this.settle(h, -EIO);
      },
    );
  }

  private settle(h: InHeader, r: HandlerResult): void {
    this.pending--;
    const start = nowNs();
    this.reply(h, r);
    writeSpans.replied(h.unique, start);
    // The caller is now free to send its next request: be awake for it.
    if (this.pending === 0) this.drain();
  }

  private answerInit(body: Buffer): Buffer | number {
    let init;
    try {
      init = decodeInitIn(body);
    } catch {
      return -EIO;
    }
    if (init.major !== FUSE_KERNEL_VERSION) {
      this.o.log('err', `fuse: kernel protocol ${init.major}.${init.minor} is not supported`);
      return -EPROTO;
    }
    const minor = Math.min(init.minor, FUSE_KERNEL_MINOR_VERSION);
    return encodeInitOut({ minor, ...this.o.init(init.minor, init.flags, init.maxReadahead) });
  }

  private reply(h: InHeader, r: HandlerResult): void {
    if (r === null) return;
    const body = typeof r === 'number' ? null : r;
    const error = typeof r === 'number' ? Math.min(0, r) : 0;
    const len = OUT_HEADER_SIZE + (body === null ? 0 : body.length);
    const out = Buffer.allocUnsafe(len);
    out.writeUInt32LE(len, 0);
    out.writeInt32LE(error, 4);
    writeUnique(out, h.unique, 8);
    if (body !== null) body.copy(out, OUT_HEADER_SIZE);
    const w = this.dev.write(out);
    if (w === -ENOENT && body !== null) this.o.onUndelivered?.(h, body);
    // ENOENT: the request was interrupted meanwhile; ENODEV: the mount is gone. Neither is news.
    if (w < 0 && w !== -ENOENT && w !== -ENODEV) this.o.log('err', `fuse: reply to opcode ${h.opcode} failed: errno ${-w}`);
  }
}
