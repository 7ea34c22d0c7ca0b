/**
 * The small shell pieces of cluster mode that need no corosync: the §9 host-file sync
 * (CorosyncConfSync with a fake reload), node IP choice, environment tuning, and the cluster status
 * files from a Kvstore + memdb.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../../src/daemon/backend';
import { clusterTuningFromEnv, pickNodeIp } from '../../../src/daemon/cluster-backend';
import { ClusterStatusSource, clusterConfigOf } from '../../../src/daemon/cluster-status';
import { CorosyncConfSync } from '../../../src/daemon/corosync-conf-sync';
import { Logger } from '../../../src/daemon/logger';
import { Kvstore } from '../../../src/kvstore/kvstore';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';

const NOW = 1_700_000_000;
const conf = (version: number, extra = '') => `totem {\n  cluster_name: c\n  config_version: ${version}\n}\n${extra}`;

function memdbWith(text: string | undefined): MemDb {
  const memdb = MemDb.open(new MemoryTreeStore(), NOW);
  if (text !== undefined) {
    const origin = { writer: 0, mtime: NOW };
    memdb.apply({ kind: 'create', path: 'corosync.conf' }, origin, NOW);
    memdb.apply({ kind: 'write', path: 'corosync.conf', offset: 0, data: Buffer.from(text), truncate: true }, origin, NOW);
  }
  return memdb;
}

function quietLogger(lines: string[]): Logger {
  const logger = new Logger('node1', false);
  logger.log = (domain, prio, msg) => lines.push(`[${domain}] ${prio}: ${msg}`);
  return logger;
}

describe('CorosyncConfSync (spec §9)', () => {
  let dir: string;
  let host: string;
  let lines: string[];
  let reloads: number;
  const make = (memdb: MemDb) =>
    new CorosyncConfSync({
      memdb,
      logger: quietLogger(lines),
      hostPath: host,
      reloadDelayMs: 0,
      runReload: () => {
        reloads++;
        return Promise.resolve(reloads === 1 ? 0 : 3);
      },
    });
  const settle = () => new Promise((r) => setTimeout(r, 20));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmxcfs-confsync-'));
    host = join(dir, 'corosync.conf');
    lines = [];
    reloads = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('no host file: writes it 0644, no reload (the old file had no version)', async () => {
    const sync = make(memdbWith(conf(2)));
    expect(sync.sync(true)).toBe(true);
    expect(readFileSync(host, 'utf8')).toBe(conf(2));
    expect(statSync(host).mode & 0o777).toBe(0o644);
    await settle();
    expect(reloads).toBe(0);
    expect(lines).toContain(`[dcdb] notice: wrote new corosync config '${host}' (version = 2)`);
    expect(readdirSync(dir)).toEqual(['corosync.conf']); // no temporary file left
  });

  it('newer version over an older file: written, reload when allowed, exit code logged', async () => {
    writeFileSync(host, conf(1));
    const memdb = memdbWith(conf(3));
    const sync = make(memdb);
    expect(sync.sync(true)).toBe(true);
    await settle();
    expect(reloads).toBe(1);
    expect(sync.lastReloadExitCode).toBe(0);
    // Same version, different bytes: written again; a failing reload is logged.
    memdb.apply({ kind: 'write', path: 'corosync.conf', offset: 0, data: Buffer.from(conf(3, '# x\n')), truncate: true }, { writer: 1, mtime: NOW }, NOW);
    expect(sync.sync(true)).toBe(true);
    await settle();
    expect(reloads).toBe(2);
    expect(lines.some((l) => l.startsWith('[dcdb] crit: corosync-cfgtool -R failed with exit code 3'))).toBe(true);
  });

  it('reload not allowed (remote change, sync commit): written, never reloaded', async () => {
    writeFileSync(host, conf(1));
    expect(make(memdbWith(conf(2))).sync(false)).toBe(true);
    await settle();
    expect(reloads).toBe(0);
  });

  it('older version in the tree: host file kept', () => {
    writeFileSync(host, conf(5));
    expect(make(memdbWith(conf(4))).sync(true)).toBe(false);
    expect(readFileSync(host, 'utf8')).toBe(conf(5));
    expect(lines.some((l) => l.startsWith('[dcdb] crit: local corosync.conf is newer'))).toBe(true);
  });

  it('identical, absent, empty or unparsable: nothing written', () => {
    writeFileSync(host, conf(2));
    expect(make(memdbWith(conf(2))).sync(true)).toBe(false);
    expect(make(memdbWith(undefined)).sync(true)).toBe(false);
    expect(make(memdbWith('totem {}\n')).sync(true)).toBe(false);
    expect(readFileSync(host, 'utf8')).toBe(conf(2));
    expect(lines.some((l) => l === '[dcdb] crit: unable to parse cluster config_version')).toBe(true);
  });

  it('stop() cancels a pending reload', async () => {
    writeFileSync(host, conf(1));
    const sync = make(memdbWith(conf(2)));
    sync.sync(true);
    sync.stop();
    await settle();
    expect(reloads).toBe(0);
    expect(sync.sync(true)).toBe(false);
  });

  it('an unwritable host path is logged, not thrown', () => {
    const sync = new CorosyncConfSync({ memdb: memdbWith(conf(2)), logger: quietLogger(lines), hostPath: join(dir, 'missing', 'x.conf') });
    expect(sync.sync(true)).toBe(false);
    expect(lines.some((l) => l.startsWith('[dcdb] crit: unable to write new corosync config'))).toBe(true);
  });
});

describe('pickNodeIp', () => {
  const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as never;

  it('first non-loopback IPv4, else a global IPv6, else none', () => {
    expect(pickNodeIp({ lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)] })).toBeUndefined();
    expect(pickNodeIp({ lo: [iface('127.0.0.1', 'IPv4', true)], eth0: [iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6')] })).toBe('2001:db8::5');
    expect(pickNodeIp({ eth0: [iface('2001:db8::5', 'IPv6'), iface('192.0.2.7', 'IPv4')], eth1: [iface('198.51.100.1', 'IPv4')] })).toBe('192.0.2.7');
  });
});

describe('clusterTuningFromEnv', () => {
  it('reads positive integers only', () => {
    expect(clusterTuningFromEnv({})).toEqual({});
    expect(clusterTuningFromEnv({ PMXCFS_VERIFY_INTERVAL: '5', PMXCFS_RECONNECT_DELAY_MS: '250' })).toEqual({ verifyIntervalS: 5, reconnectDelayMs: 250 });
    expect(clusterTuningFromEnv({ PMXCFS_VERIFY_INTERVAL: '0', PMXCFS_RECONNECT_DELAY_MS: '-1' })).toEqual({});
    expect(clusterTuningFromEnv({ PMXCFS_VERIFY_INTERVAL: 'soon' })).toEqual({});
  });
});

describe('ClusterStatusSource', () => {
  it('.members: short form until cmap was read, then the nodelist with online flags, IPs and quorum', () => {
    const memdb = memdbWith(conf(2));
    const kv = new Kvstore({ nodename: 'node1' });
    let quorate = false;
    const status = new ClusterStatusSource(memdb, kv, () => quorate, NOW, () => NOW);
    expect(status.members()).toBe('{\n"nodename": "node1",\n"version": 0\n}\n');

    kv.setClusterInfo(
      clusterConfigOf({ clusterName: 'lab', configVersion: 7, nodes: [{ nodeid: 1, name: 'node1', votes: 1 }, { nodeid: 2, name: 'node2', votes: 1 }] }),
    );
    kv.membersChanged([{ nodeid: 1, pid: 10 }]);
    kv.setStatus('nodeip', Buffer.from('192.0.2.1\0'), NOW);
    quorate = true;
    expect(status.members()).toBe(
      '{\n"nodename": "node1",\n"version": 3,\n' +
        '"cluster": { "name": "lab", "version": 7, "nodes": 2, "quorate": 1 },\n' +
        '"nodelist": {\n  "node1": { "id": 1, "online": 1, "ip": "192.0.2.1"},\n  "node2": { "id": 2, "online": 0}\n  }\n}\n',
    );
  });

  it('.version: clinfo from the kvstore, observed paths counted through the memdb listener', () => {
    const memdb = memdbWith(conf(2));
    const kv = new Kvstore({ nodename: 'node1' });
    const status = new ClusterStatusSource(memdb, kv, () => true, NOW, () => NOW);
    kv.setStatus('tasklist', Buffer.from('[]'), NOW);
    memdb.apply({ kind: 'create', path: 'storage.cfg' }, { writer: 1, mtime: NOW }, NOW);
    const text = status.version();
    expect(text).toContain(`"starttime": ${NOW},\n"clinfo": 0,\n`);
    expect(text).toContain('"corosync.conf": 1,\n"corosync.conf.new": 1,\n"storage.cfg": 2,\n');
    expect(text.endsWith('"kvstore": {\n"node1": {\n"tasklist": 0}\n}\n}\n')).toBe(true);
    expect(status.rrdDump()).toBe('');
    expect(status.clusterLog()).toBe('{\n"data": [\n]\n}\n');
  });
});

describe('LocalBackend.snapshot', () => {
  it('local mode: quorate, nodeid 0, no members, no DFSM', () => {
    const memdb = memdbWith(undefined);
    const backend = new LocalBackend(memdb, new ClusterStatusSource(memdb, new Kvstore({ nodename: 'n' }), () => true, NOW, () => NOW), () => NOW, 'n');
    expect(backend.snapshot()).toEqual({ mode: 'local', nodename: 'n', nodeid: 0, quorate: true, version: memdb.version, memdbErrors: false, members: [] });
  });
});
