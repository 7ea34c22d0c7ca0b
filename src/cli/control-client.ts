/**
 * Client side of the daemon's control socket: connect, send one request line, read one answer line,
 * all under one deadline. Every failure is a value with a message an operator can act on.
 */
import { connect } from 'node:net';
import type { ControlRequest, ControlResponse } from '../daemon/control-protocol';

export type ClientResult = { ok: true; response: ControlResponse } | { ok: false; error: string };

const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function requestControl(path: string, request: ControlRequest, timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const sock = connect(path);
    const finish = (r: ClientResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: `daemon not answering on ${path} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_ANSWER_BYTES) finish({ ok: false, error: 'answer from the daemon is too long' });
      const nl = text.indexOf('\n');
      if (nl >= 0) finish(decodeAnswer(text.slice(0, nl)));
    });
    sock.on('end', () => finish(text === '' ? { ok: false, error: `daemon closed ${path} without answering` } : decodeAnswer(text)));
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: describeConnectError(path, e) }));
  });
}

function decodeAnswer(line: string): ClientResult {
  try {
    const v = JSON.parse(line) as ControlResponse;
    if (typeof v !== 'object' || v === null || typeof v.ok !== 'boolean') return { ok: false, error: 'malformed answer from the daemon' };
    return { ok: true, response: v };
  } catch {
    return { ok: false, error: 'malformed answer from the daemon' };
  }
}

function describeConnectError(path: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `daemon not running: no control socket at ${path}`;
    case 'ECONNREFUSED':
      return `daemon not running: nothing listens on ${path} (stale socket)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path}: the status command needs root`;
    default:
      return `cannot reach the daemon on ${path}: ${e.message}`;
  }
}
