/**
 * A real local-mode daemon writes RRD files for IPC SET_STATUS `rrd/...` (spec §6, §11.2): first
 * through our own rrdcached on a temp socket, then — rrdcached stopped — directly through librrd;
 * garbage is logged and the daemon serves on. Private RRD dir, socket and IPC service name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QbIpcClient } from '../../src/ipc/qb-client';
import { cString, fixedCString, IpcOp } from '../../src/ipc/protocol';
import { cleanup, makeTempDir, startDaemon, waitUntil, type DaemonHandle } from './daemon-harness';

const SERVICE = `pve2-rrd-${process.pid}`;

function lastUpdate(file: string): { time: number; values: string[] } | undefined {
  const r = spawnSync('rrdtool', ['lastupdate', file], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const line = r.stdout.trim().split('\n').at(-1)!;
  const [ts, rest] = line.split(':');
  return { time: Number(ts), values: rest!.trim().split(/\s+/) };
}

/** rrdcached's STATS counters (its own protocol, asked by the test). */
function rrdcachedStats(sock: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    let text = '';
    s.setEncoding('utf8');
    s.on('error', reject);
    s.on('data', (c: string) => {
      text += c;
      const lines = text.split('\n');
      const n = Number(lines[0]!.split(' ')[0]);
      if (lines.length > n + 1) {
        s.end();
        resolve(new Map(lines.slice(1, n + 1).map((l) => [l.split(':')[0]!, Number(l.split(':')[1])])));
      }
    });
    s.write('STATS\n');
  });
}

describe('daemon writes RRD files (local mode, IPC SET_STATUS)', () => {
  let dir: string;
  let rrdDir: string;
  let sock: string;
  let cached: ChildProcess | undefined;
  let d: DaemonHandle | undefined;
  let client: QbIpcClient | undefined;
  const T0 = Math.floor(Date.now() / 1000 / 60) * 60 - 600;

  const set = (key: string, data: string) => client!.request(IpcOp.SET_STATUS, Buffer.concat([fixedCString(key, 256), cString(data)]));

  beforeAll(async () => {
    dir = makeTempDir('pmxcfs-rrd-');
    rrdDir = join(dir, 'rrd');
    mkdirSync(rrdDir);
    mkdirSync(join(dir, 'journal'));
    sock = join(dir, 'rrdcached.sock');
    cached = spawn('rrdcached', ['-g', '-l', `unix:${sock}`, '-b', rrdDir, '-B', '-j', join(dir, 'journal'), '-w', '3600', '-p', join(dir, 'rrdcached.pid')], { stdio: 'ignore' });
    await waitUntil('rrdcached socket', () => (existsSync(sock) ? true : undefined));
    d = await startDaemon({
      dir,
      args: ['-f', '-l', '--mount', join(dir, 'mnt'), '--db', join(dir, 'config.db'), '--nodename', 'node1', '--rrd-dir', rrdDir, '--rrdcached-socket', sock],
      env: { PMXCFS_IPC_SERVICE: SERVICE },
    });
    client = await waitUntil('IPC service', () => QbIpcClient.connect(SERVICE));
  });

  afterAll(async () => {
    client?.close();
    await cleanup(d);
    if (cached && cached.exitCode === null && cached.signalCode === null) {
      const exited = new Promise((r) => cached!.once('exit', r));
      cached.kill('SIGTERM');
      await exited;
    }
  });

  it('a node sample goes through rrdcached into pve-node-9.0/node1', async () => {
    expect(set('rrd/pve-node-9.0/node1', `3600:0:${T0}:${Array.from({ length: 19 }, (_, i) => i + 1).join(':')}`).error).toBe(0);
    const file = join(rrdDir, 'pve-node-9.0/node1');
    await waitUntil('node file', () => (existsSync(file) ? true : undefined));
    // rrdcached took it (and holds it, -w 3600): the file itself has no update yet.
    for (;;) {
      if ((await rrdcachedStats(sock)).get('UpdatesReceived') === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lastUpdate(file)!.time).toBeLessThan(T0);
    // After the flush the file has the sample.
    await waitUntil('sample flushed by rrdcached', () => {
      spawnSync('rrdtool', ['flushcached', '--daemon', `unix:${sock}`, file]);
      return lastUpdate(file)?.time === T0 ? true : undefined;
    });
    expect(lastUpdate(file)!.values).toEqual(Array.from({ length: 19 }, (_, i) => String(i + 1)));
    // (stderr of the daemon arrives through our event loop: wait for it)
    await waitUntil('connect logged', () => (d!.stderr().includes('rrdcached connected') ? true : undefined));
  });

  it('rrdcached gone: the next samples (vm, storage) are written directly', async () => {
    const exited = new Promise((r) => cached!.once('exit', r));
    cached!.kill('SIGTERM');
    await exited;
    await waitUntil('daemon noticed', () => (d!.stderr().includes('rrdcached connection lost') ? true : undefined));

    expect(set('rrd/pve-storage-9.0/node1/local', `${T0}:1000:250`).error).toBe(0);
    expect(set('rrd/pve2.3-vm/100', `60:web:running:0:${T0}:${Array.from({ length: 10 }, (_, i) => i).join(':')}`).error).toBe(0);
    const storage = join(rrdDir, 'pve-storage-9.0/node1/local');
    const vm = join(rrdDir, 'pve-vm-9.0/100');
    expect(await waitUntil('storage sample', () => (lastUpdate(storage)?.time === T0 ? lastUpdate(storage) : undefined))).toEqual({ time: T0, values: ['1000', '250'] });
    const vmLast = await waitUntil('vm sample', () => (lastUpdate(vm)?.time === T0 ? lastUpdate(vm) : undefined));
    expect(vmLast.values).toEqual([...Array.from({ length: 10 }, (_, i) => String(i)), ...new Array(7).fill('U')]);
  });

  it('garbage and old samples: logged, nothing crashes, the daemon still answers', async () => {
    expect(set('rrd/pve-node-9.0/node1', '3600:0:notanumber:1:2').error).toBe(0);
    expect(set('rrd/pve-storage-9.0/node1/local', `${T0 - 60}:1:1`).error).toBe(0);
    await waitUntil('bad sample logged', () => (d!.stderr().includes('bad sample') ? true : undefined));
    expect(lastUpdate(join(rrdDir, 'pve-storage-9.0/node1/local'))!.time).toBe(T0);
    expect(d!.proc.exitCode).toBeNull();
    expect(client!.request(IpcOp.GET_RRD_DUMP).error).toBe(0);
    expect(d!.stderr()).not.toMatch(/RRD (create|update) error .*local/);
  });
});
