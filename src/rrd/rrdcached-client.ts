/**
 * A client of rrdcached's line protocol (rrdcached(1) "PROTOCOL") over its unix socket, fully
 * asynchronous on node:net: `UPDATE <file> <values>\n` is answered by one status line `<n> <text>`
 * (n < 0 error, n >= 0 success followed by n more lines). Commands are pipelined on one connection
 * and answered in order. When the socket cannot be reached, is lost or stops answering, every
 * command not yet answered is handed back as `unavailable` (the caller writes it directly), and
 * new connection attempts wait `retryDelayMs`.
 */
import { connect, type Socket } from 'node:net';

export type RrdcachedReply =
  | { kind: 'ok' }
  /** rrdcached answered with an error status; `error` is its message. */
  | { kind: 'refused'; error: string }
  /** Not known to have reached rrdcached (no connection, lost, timed out, closed). */
  | { kind: 'unavailable'; error: string };

export interface RrdcachedClientOptions {
  /** Path of the unix socket (e.g. /var/run/rrdcached.sock). */
  socket: string;
  /** Wait this long after a failed or lost connection before trying again (default 10 s). */
  retryDelayMs?: number;
  /** Drop a connection that leaves commands unanswered this long (default 10 s). */
  replyTimeoutMs?: number;
  /** More unanswered commands than this: new ones are refused (caller writes directly). */
  maxInFlight?: number;
  nowMs?: () => number;
  /** A connection was made or lost (for one log line per change). */
  onState?: (connected: boolean, detail: string) => void;
}

type Done = (reply: RrdcachedReply) => void;

export class RrdcachedClient {
  private socket: Socket | null = null;
  private connected = false;
  /** Commands written (or waiting for the connection), oldest first; answers come in this order. */
  private inFlight: { line: string; done: Done }[] = [];
  private retryAt = 0;
  private buffered = '';
  /** Lines still to skip after a positive status (n lines of payload). */
  private skipLines = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly retryDelayMs: number;
  private readonly replyTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly nowMs: () => number;

  constructor(private readonly o: RrdcachedClientOptions) {
    this.retryDelayMs = o.retryDelayMs ?? 10_000;
    this.replyTimeoutMs = o.replyTimeoutMs ?? 10_000;
    this.maxInFlight = o.maxInFlight ?? 1000;
    this.nowMs = o.nowMs ?? Date.now;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Sends `UPDATE file values`; false when the client cannot take it now (down and waiting to
   * retry, too many unanswered, closed): then `done` is never called. `file` and `values` must not
   * contain whitespace (the caller checks).
   */
  update(file: string, values: string, done: Done): boolean {
    if (this.closed || this.inFlight.length >= this.maxInFlight) return false;
    if (this.socket === null) {
      if (this.nowMs() < this.retryAt) return false;
      this.open();
    }
    const line = `UPDATE ${file} ${values}\n`;
    this.inFlight.push({ line, done });
    if (this.connected) this.socket!.write(line);
    return true;
  }

  /** Resolves once no command is waiting for its answer (tests; shutdown). */
  idle(): Promise<void> {
    if (this.inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.drop('client closed');
  }

  private open(): void {
    const socket = connect(this.o.socket);
    this.socket = socket;
    this.connected = false;
    this.buffered = '';
    this.skipLines = 0;
    socket.setEncoding('utf8');
    socket.setTimeout(this.replyTimeoutMs);
    socket.unref(); // never keeps the daemon (or a test) alive by itself
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      this.o.onState?.(true, this.o.socket);
      for (const c of this.inFlight) socket.write(c.line);
    });
    socket.on('data', (chunk: string) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on('timeout', () => {
      if (this.socket === socket && this.inFlight.length > 0) this.drop('no answer from rrdcached');
    });
    socket.on('error', (err: Error) => {
      if (this.socket === socket) this.drop(err.message);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.drop('connection closed by rrdcached');
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl < 0) break;
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (this.skipLines > 0) {
        this.skipLines--;
        continue;
      }
      this.onStatusLine(line);
    }
    if (this.buffered.length > 65536) this.drop('overlong line from rrdcached');
  }

  private onStatusLine(line: string): void {
    const m = /^\s*(-?\d+)\s*(.*)$/.exec(line);
    const cmd = this.inFlight.shift();
    if (m === null || cmd === undefined) {
      if (cmd !== undefined) cmd.done({ kind: 'unavailable', error: `unexpected answer '${line.slice(0, 80)}'` });
      this.drop('protocol error');
      return;
    }
    const status = Number(m[1]);
    if (status > 0) this.skipLines = status;
    cmd.done(status < 0 ? { kind: 'refused', error: m[2]! } : { kind: 'ok' });
    this.notifyIdle();
  }

  /** Ends the connection; every unanswered command comes back as unavailable. */
  private drop(reason: string): void {
    const socket = this.socket;
    const wasConnected = this.connected;
    this.socket = null;
    this.connected = false;
    if (socket !== null) {
      socket.destroy();
      if (!this.closed) this.retryAt = this.nowMs() + this.retryDelayMs;
      if (wasConnected) this.o.onState?.(false, reason);
    }
    const pending = this.inFlight;
    this.inFlight = [];
    for (const c of pending) c.done({ kind: 'unavailable', error: reason });
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.inFlight.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
