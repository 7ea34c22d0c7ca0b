/**
 * RrdcachedClient against a scripted fake rrdcached on a temp unix socket: pipelined answers in
 * order, multi-line positive answers skipped, refusals, a server that closes or never answers, no
 * server at all, and the retry pause (time injected).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RrdcachedClient, type RrdcachedReply } from '../../src/rrd/rrdcached-client';

/** A fake rrdcached: `answer(line)` gives the text to send back for each received line (or null: stay silent). */
function fakeServer(path: string, answer: (line: string, sock: Socket) => string | null): Promise<{ server: Server; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const a = answer(line, sock);
        if (a !== null) sock.write(a);
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, lines })));
}

function collect(): { replies: RrdcachedReply[]; done: (r: RrdcachedReply) => void } {
  const replies: RrdcachedReply[] = [];
  return { replies, done: (r) => replies.push(r) };
}

describe('RrdcachedClient', () => {
  let dir: string;
  let sock: string;
  let server: Server | undefined;
  let client: RrdcachedClient | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rrdc-client-'));
    sock = join(dir, 's.sock');
  });
  afterEach(async () => {
    client?.close();
    if (server) await new Promise((r) => server!.close(r));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('pipelines UPDATE lines and matches answers in order (positive answers with payload lines skipped)', async () => {
    let n = 0;
    const s = await fakeServer(sock, () => {
      n++;
      if (n === 1) return '2 two lines follow\nfirst\nsecond\n';
      if (n === 2) return '-1 illegal attempt to update using time 5 when last update time is 9\n';
      return '0 errors, enqueued 1 value(s).\n';
    });
    server = s.server;
    const states: string[] = [];
    client = new RrdcachedClient({ socket: sock, onState: (up) => states.push(up ? 'up' : 'down') });
    const c = collect();
    expect(client.update('/db/a', '10:1:2', c.done)).toBe(true);
    expect(client.update('/db/a', '5:1:2', c.done)).toBe(true);
    expect(client.update('/db/b', '11:1:2', c.done)).toBe(true);
    await client.idle();
    expect(s.lines).toEqual(['UPDATE /db/a 10:1:2', 'UPDATE /db/a 5:1:2', 'UPDATE /db/b 11:1:2']);
    expect(c.replies).toEqual([
      { kind: 'ok' },
      { kind: 'refused', error: 'illegal attempt to update using time 5 when last update time is 9' },
      { kind: 'ok' },
    ]);
    expect(client.isConnected).toBe(true);
    expect(states).toEqual(['up']);
  });

  it('no server: the update comes back unavailable; further ones are refused until the retry pause has passed', async () => {
    let now = 1000;
    client = new RrdcachedClient({ socket: join(dir, 'nobody.sock'), nowMs: () => now, retryDelayMs: 10_000 });
    const c = collect();
    expect(client.update('/db/a', '1:1', c.done)).toBe(true);
    expect(client.update('/db/a', '2:1', c.done)).toBe(true); // queued for the same attempt
    await client.idle();
    expect(c.replies.map((r) => r.kind)).toEqual(['unavailable', 'unavailable']);
    expect(client.update('/db/a', '3:1', c.done)).toBe(false);
    now += 10_000;
    expect(client.update('/db/a', '4:1', c.done)).toBe(true);
    await client.idle();
    expect(c.replies).toHaveLength(3);
  });

  it('a server that closes the connection: unanswered updates come back unavailable, state change reported', async () => {
    const s = await fakeServer(sock, (_line, conn) => {
      conn.destroy();
      return null;
    });
    server = s.server;
    const states: string[] = [];
    client = new RrdcachedClient({ socket: sock, onState: (up, detail) => states.push(`${up ? 'up' : 'down'}:${detail}`) });
    const c = collect();
    client.update('/db/a', '1:1', c.done);
    await client.idle();
    expect(c.replies).toEqual([{ kind: 'unavailable', error: 'connection closed by rrdcached' }]);
    expect(states).toEqual([`up:${sock}`, 'down:connection closed by rrdcached']);
    expect(client.isConnected).toBe(false);
  });

  it('a server that never answers: dropped after the reply timeout, updates unavailable', async () => {
    const s = await fakeServer(sock, () => null);
    server = s.server;
    client = new RrdcachedClient({ socket: sock, replyTimeoutMs: 200 });
    const c = collect();
    client.update('/db/a', '1:1', c.done);
    await client.idle();
    expect(c.replies).toEqual([{ kind: 'unavailable', error: 'no answer from rrdcached' }]);
  });

  it('garbage answers end the connection (protocol error); too many in flight are refused; close() hands back the rest', async () => {
    const s = await fakeServer(sock, () => 'what?\n');
    server = s.server;
    client = new RrdcachedClient({ socket: sock, maxInFlight: 2 });
    const c = collect();
    expect(client.update('/db/a', '1:1', c.done)).toBe(true);
    expect(client.update('/db/a', '2:1', c.done)).toBe(true);
    expect(client.update('/db/a', '3:1', c.done)).toBe(false);
    await client.idle();
    expect(c.replies[0]).toEqual({ kind: 'unavailable', error: "unexpected answer 'what?'" });
    expect(c.replies[1]).toEqual({ kind: 'unavailable', error: 'protocol error' });

    const silent = new RrdcachedClient({ socket: sock, retryDelayMs: 0 });
    const c2 = collect();
    silent.update('/db/a', '1:1', c2.done);
    silent.close();
    expect(c2.replies).toEqual([{ kind: 'unavailable', error: 'client closed' }]);
    expect(silent.update('/db/a', '2:1', c2.done)).toBe(false);
  });
});
