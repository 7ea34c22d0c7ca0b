/**
 * A pve2 service name that is already taken (a second daemon on the same host or in the same
 * container, as the lab's ops scenarios start one): QbIpcServer.start throws, the process lives on
 * and the first server keeps working. Before the fix the second start destroyed a service that a
 * failed qb_ipcs_run had already freed, and libqb aborted the process (ref_count assertion).
 * Runs in a child process so that an abort shows up as a signal, not as a lost test worker.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVER_JS = resolve(__dirname, '../../dist/src/ipc/qb-server.js');
const CLIENT_JS = resolve(__dirname, '../../dist/src/ipc/qb-client.js');

describe('pve2 service name already taken', () => {
  it('the second start throws, nothing aborts, the first server still answers', () => {
    const name = `pve2-taken-${process.pid}`;
    const script = `
      const { QbIpcServer } = require(${JSON.stringify(SERVER_JS)});
      const { QbIpcClient } = require(${JSON.stringify(CLIENT_JS)});
      const handle = (_client, req) => { const b = Buffer.alloc(24); b.writeInt32LE(req.readInt32LE(0), 0); b.writeInt32LE(24, 8); return b; };
      const first = QbIpcServer.start({ name: ${JSON.stringify(name)}, wwwDataGid: 33, handle });
      let second = 'started';
      try { QbIpcServer.start({ name: ${JSON.stringify(name)}, wwwDataGid: 33, handle }); } catch (e) { second = 'threw'; }
      const out = { second };
      // A client in another process (the server answers on this process's event loop).
      const child = require('child_process').spawn(process.execPath, ['-e',
        'const { QbIpcClient } = require(' + JSON.stringify(${JSON.stringify(CLIENT_JS)}) + ');' +
        'const c = QbIpcClient.connect(' + JSON.stringify(${JSON.stringify(name)}) + ');' +
        'const r = c.request(1); c.close(); console.log(r.error);'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('close', (code) => { out.client = code === 0 && text.trim() !== '' ? Number(text.trim()) : 'failed'; first.stop(); console.log(JSON.stringify(out)); });
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 90_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ second: 'threw', client: 0 });
  });
});
