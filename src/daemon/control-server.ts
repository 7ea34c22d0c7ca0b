/**
 * The daemon side of the control socket: a unix stream socket, root only (mode 0600 in a 0750
 * root:www-data directory), served on the event loop. Each connection sends one request line and
 * gets one answer line; malformed or oversized requests get an error answer, and a client that says
 * nothing is dropped after a few seconds. Nothing a client sends can throw out of this module.
 */
import { chmodSync, chownSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  DEFAULT_CONTROL_SOCKET,
  encodeResponse,
  MAX_REQUEST_BYTES,
  parseControlRequest,
  type ControlResponse,
  type NodeStatus,
} from './control-protocol';

export interface ControlHandlers {
  status(logLines: number): NodeStatus;
}

export interface ControlServerOptions {
  path: string;
  handlers: ControlHandlers;
  /** gid of www-data: group of the default socket directory /run/pve-cluster. */
  gid: number;
  /** Idle clients are dropped after this many ms. */
  idleTimeoutMs?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Binds and listens; rejects when the socket cannot be created (the caller logs and carries on). */
export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  prepareSocketDir(o.path, o.gid);
  removeStale(o.path); // we hold the instance lock: a socket file left here is from a dead daemon
  const server = createServer({ allowHalfOpen: true }, (sock) => serveConnection(sock, o));
  server.on('error', () => {}); // listen errors are reported through the promise below
  await listenPrivately(server, o.path);
  return {
    path: o.path,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        removeStale(o.path);
      }),
  };
}

/** /run/pve-cluster is made 0750 root:www-data like the reference does; other dirs are left alone. */
function prepareSocketDir(path: string, gid: number): void {
  const dir = dirname(path);
  if (path === DEFAULT_CONTROL_SOCKET) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    chownSync(dir, 0, gid);
    chmodSync(dir, 0o750);
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  }
}

function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/** listen() with a umask that makes the socket 0600 from the moment it exists (bind is synchronous). */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((res, rej) => {
    const onError = (e: Error): void => rej(e);
    server.once('error', onError);
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        try {
          chmodSync(path, 0o600);
        } catch {
          // already 0600 through the umask
        }
        res();
      });
    } finally {
      process.umask(old);
    }
  });
}

function serveConnection(sock: Socket, o: ControlServerOptions): void {
  let buffered = '';
  let answered = false;
  const answer = (r: ControlResponse): void => {
    if (answered) return;
    answered = true;
    sock.end(encodeResponse(r));
  };
  sock.setEncoding('utf8');
  sock.setTimeout(o.idleTimeoutMs ?? 5000, () => {
    answer({ ok: false, error: 'timeout: no request received' });
    sock.destroy();
  });
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    if (answered) return;
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl < 0) {
      if (buffered.length > MAX_REQUEST_BYTES) answer({ ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
      return;
    }
    answer(handleLine(buffered.slice(0, nl), o.handlers));
  });
  // A client that half-closes without a newline still gets an answer for what it sent.
  sock.on('end', () => {
    if (!answered) answer(buffered.trim() === '' ? { ok: false, error: 'empty request' } : handleLine(buffered, o.handlers));
  });
}

function handleLine(line: string, handlers: ControlHandlers): ControlResponse {
  const parsed = parseControlRequest(line.trim());
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const req = parsed.request;
  try {
    if (req.cmd === 'ping') return { ok: true, pid: process.pid };
    return { ok: true, status: handlers.status(req.logLines) };
  } catch (e) {
    return { ok: false, error: `internal error: ${(e as Error).message}` };
  }
}
