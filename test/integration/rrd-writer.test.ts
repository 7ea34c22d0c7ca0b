/**
 * RrdWriter against the real librrd (librrd8) and a real rrdcached of our own on a temp unix socket;
 * files inspected with `rrdtool info` / `rrdtool lastupdate` (apt rrdtool rrdcached).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rrdTargetFor, type RrdTarget } from '../../src/kvstore/rrd-key';
import { RrdWriter } from '../../src/rrd/rrd-writer';
import { RRD_SOURCES } from '../../src/rrd/rrd-layout';
import { waitUntil } from './daemon-harness';

function target(key: string, data: string): RrdTarget {
  const t = rrdTargetFor(key, data);
  if ('error' in t) throw new Error(t.error);
  return t;
}

/** `rrdtool info` as key → value (strings unquoted). */
function rrdInfo(file: string): Map<string, string> {
  const r = spawnSync('rrdtool', ['info', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) m.set(line.slice(0, at), line.slice(at + 3).replace(/^"(.*)"$/, '$1'));
  }
  return m;
}

/** `rrdtool lastupdate`: the timestamp and the values of the last update. */
function lastUpdate(file: string): { time: number; values: string[] } {
  const r = spawnSync('rrdtool', ['lastupdate', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const line = r.stdout.trim().split('\n').at(-1)!;
  const [ts, rest] = line.split(':');
  return { time: Number(ts), values: rest!.trim().split(/\s+/) };
}

const T0 = Math.floor(Date.now() / 1000 / 60) * 60 - 600;
const nodeData = (ts: number, first: number) =>
  `86400:0:${ts}:${Array.from({ length: 19 }, (_, i) => first + i).join(':')}`;

describe('RrdWriter with the real librrd', () => {
  let dir: string;
  let logs: { prio: string; msg: string }[];
  let writer: RrdWriter;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rrd-it-'));
    logs = [];
    writer = new RrdWriter({ dir: join(dir, 'db'), rrdcachedSocket: null, log: (prio, msg) => logs.push({ prio, msg }) });
  });
  afterEach(() => {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a node sample creates pve-node-9.0/<node>: 19 DS with names and types, step 60, 8 RRAs; a second sample updates it', () => {
    expect(writer.enabled).toBe(true);
    writer.write(target('pve-node-9.0/node1', nodeData(T0, 1)));
    const file = join(dir, 'db/pve-node-9.0/node1');
    expect(statSync(join(dir, 'db/pve-node-9.0')).mode & 0o777).toBe(0o750);
    const info = rrdInfo(file);
    expect(info.get('step')).toBe('60');
    const ds = [...info.keys()].filter((k) => /^ds\[[^\]]+\]\.type$/.test(k)).map((k) => k.slice(3, k.indexOf(']')));
    expect(ds.sort()).toEqual([...RRD_SOURCES.node].sort());
    for (const name of RRD_SOURCES.node) {
      expect(info.get(`ds[${name}].type`)).toBe(['netin', 'netout'].includes(name) ? 'DERIVE' : 'GAUGE');
      expect(info.get(`ds[${name}].minimal_heartbeat`)).toBe('120');
      expect(info.get(`ds[${name}].min`)).toBe('0.0000000000e+00');
      expect(info.get(`ds[${name}].max`)).toBe('NaN');
    }
    const rras = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${info.get(`rra[${i}].cf`)}:${info.get(`rra[${i}].xff`)}:${info.get(`rra[${i}].pdp_per_row`)}:${info.get(`rra[${i}].rows`)}`);
    expect(rras).toEqual([
      'AVERAGE:5.0000000000e-01:1:1440',
      'AVERAGE:5.0000000000e-01:30:1440',
      'AVERAGE:5.0000000000e-01:360:1440',
      'AVERAGE:5.0000000000e-01:10080:570',
      'MAX:5.0000000000e-01:1:1440',
      'MAX:5.0000000000e-01:30:1440',
      'MAX:5.0000000000e-01:360:1440',
      'MAX:5.0000000000e-01:10080:570',
    ]);
    expect(info.has('rra[8].cf')).toBe(false);
    expect(lastUpdate(file)).toEqual({ time: T0, values: Array.from({ length: 19 }, (_, i) => String(1 + i)) });

    writer.write(target('pve-node-9.0/node1', nodeData(T0 + 60, 100)));
    expect(lastUpdate(file)).toEqual({ time: T0 + 60, values: Array.from({ length: 19 }, (_, i) => String(100 + i)) });
    expect(logs).toEqual([]);
  });

  it('a legacy pve2-node sample (12 columns) lands in the 9.0 file padded with U', () => {
    writer.write(target('pve2-node/node2', `1:0:${T0}:${new Array(12).fill('3').join(':')}`));
    const last = lastUpdate(join(dir, 'db/pve-node-9.0/node2'));
    expect(last.values).toEqual([...new Array(12).fill('3'), ...new Array(7).fill('U')]);
  });

  it('vm and storage samples: pve-vm-9.0/<vmid> (17 DS, diskread DERIVE), pve-storage-9.0/<node>/<sid>', () => {
    writer.write(target('pve-vm-9.0/100', `60:web:running:0:${T0}:${Array.from({ length: 17 }, (_, i) => i).join(':')}`));
    const vm = rrdInfo(join(dir, 'db/pve-vm-9.0/100'));
    expect([...vm.keys()].filter((k) => k.endsWith('].type') && k.startsWith('ds['))).toHaveLength(17);
    expect(vm.get('ds[diskread].type')).toBe('DERIVE');
    expect(vm.get('ds[memhost].type')).toBe('GAUGE');
    expect(lastUpdate(join(dir, 'db/pve-vm-9.0/100')).values[16]).toBe('16');

    writer.write(target('pve-storage-9.0/node1/local-lvm', `${T0}:1000:250`));
    const st = join(dir, 'db/pve-storage-9.0/node1/local-lvm');
    expect(statSync(join(dir, 'db/pve-storage-9.0/node1')).mode & 0o777).toBe(0o750);
    expect(rrdInfo(st).get('ds[used].type')).toBe('GAUGE');
    expect(lastUpdate(st)).toEqual({ time: T0, values: ['1000', '250'] });
    expect(logs).toEqual([]);
  });

  it('an old sample is ignored (debug line only); the file keeps the newer one', () => {
    writer.write(target('pve-storage-9.0/node1/local', `${T0 + 120}:10:1`));
    writer.write(target('pve-storage-9.0/node1/local', `${T0}:10:2`));
    expect(lastUpdate(join(dir, 'db/pve-storage-9.0/node1/local'))).toEqual({ time: T0 + 120, values: ['10', '1'] });
    expect(logs.map((l) => l.prio)).toEqual(['debug']);
    expect(logs[0]!.msg).toContain('illegal attempt to update');
  });

  it('garbage does not throw and creates nothing', () => {
    const garbage: RrdTarget[] = [
      { kind: 'node', file: 'pve-node-9.0/node1', update: '1:2:3' },
      { kind: 'storage', file: 'pve-storage-9.0/n/s', update: `${T0}:abc:1` },
      { kind: 'storage', file: 'pve-storage-9.0/n/t', update: '\u0000\u00ff:1:2' },
      { kind: 'vm', file: 'pve-vm-9.0/..', update: `${T0}:${new Array(17).fill('1').join(':')}` },
    ];
    for (const g of garbage) expect(() => writer.write(g)).not.toThrow();
    expect(existsSync(join(dir, 'db/pve-node-9.0/node1'))).toBe(false);
    expect(existsSync(join(dir, 'db/pve-storage-9.0/n/s'))).toBe(false);
    expect(logs.every((l) => l.prio === 'warning')).toBe(true);
    expect(logs).toHaveLength(4);
  });

  it('an RRD directory that cannot be written is logged, not thrown', () => {
    const w = new RrdWriter({ dir: join(dir, 'afile', 'db'), rrdcachedSocket: null, log: (prio, msg) => logs.push({ prio, msg }) });
    spawnSync('touch', [join(dir, 'afile')]);
    expect(() => w.write(target('pve-storage-9.0/node1/local', `${T0}:1:1`))).not.toThrow();
    expect(logs).toHaveLength(1);
    expect(logs[0]!.msg).toMatch(/RRD create error .*ENOTDIR/);
    w.close();
  });
});

describe('RrdWriter through rrdcached', () => {
  let dir: string;
  let db: string;
  let sock: string;
  let cached: ChildProcess | undefined;


  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rrdc-it-'));
    db = join(dir, 'db');
    mkdirSync(db);
    mkdirSync(join(dir, 'journal'));
    sock = join(dir, 'rrdcached.sock');
    // -g: foreground (our own child, ended by its pid); -B: only below -b; long -w: nothing is
    // written to the file until we ask (FLUSH), so a value in the file proves the daemon wrote it.
    cached = spawn('rrdcached', ['-g', '-l', `unix:${sock}`, '-b', db, '-B', '-j', join(dir, 'journal'), '-w', '3600', '-z', '1', '-p', join(dir, 'pid')], {
      stdio: 'ignore',
    });
    await waitUntil('rrdcached socket', () => (existsSync(sock) ? true : undefined));
  });

  afterAll(async () => {
    if (cached && cached.exitCode === null) {
      const exited = new Promise((r) => cached!.once('exit', r));
      cached.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('an update goes through rrdcached (pending there until flushed), refusals of old samples are debug only', async () => {
    const logs: { prio: string; msg: string }[] = [];
    const w = new RrdWriter({ dir: db, rrdcachedSocket: sock, log: (prio, msg) => logs.push({ prio, msg }) });
    const file = join(db, 'pve-storage-9.0/node1/local');
    w.write(target('pve-storage-9.0/node1/local', `${T0}:500:100`));
    await w.idle();
    expect(logs.filter((l) => l.prio !== 'info')).toEqual([]);
    expect(logs.some((l) => l.msg.includes('rrdcached connected'))).toBe(true);
    // The file was created (by librrd) but the value waits in rrdcached: the file has no update yet.
    expect(existsSync(file)).toBe(true);
    expect(lastUpdate(file).time).toBeLessThan(T0);
    const pending = spawnSync('rrdtool', ['flushcached', '--daemon', `unix:${sock}`, file], { encoding: 'utf8' });
    expect(pending.status).toBe(0);
    expect(lastUpdate(file)).toEqual({ time: T0, values: ['500', '100'] });

    w.write(target('pve-storage-9.0/node1/local', `${T0 - 60}:1:1`));
    await w.idle();
    expect(logs.filter((l) => l.prio !== 'info').map((l) => l.prio)).toEqual(['debug']);
    expect(logs.at(-1)!.msg).toContain('illegal attempt');
    w.close();
  });

  it('a socket nobody listens on: the update is written directly', async () => {
    const logs: string[] = [];
    const w = new RrdWriter({ dir: db, rrdcachedSocket: join(dir, 'nobody.sock'), log: (_p, msg) => logs.push(msg) });
    w.write(target('pve-storage-9.0/node2/local', `${T0}:7:3`));
    await w.idle();
    expect(lastUpdate(join(db, 'pve-storage-9.0/node2/local'))).toEqual({ time: T0, values: ['7', '3'] });
    expect(logs).toEqual([]);
    expect(readFileSync(join(dir, 'pid'), 'utf8').trim()).toBe(String(cached!.pid));
    w.close();
  });
});
