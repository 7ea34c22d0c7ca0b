/**
 * Both modes hand `rrd/...` SET_STATUS samples to the RRD sink: local mode through the IPC status
 * store and LocalStatusSource, cluster mode through ClusterBackend's kvstore effect handler (the
 * same handler that receives peers' updates). A recording sink stands in for the writer.
 */
import { describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/daemon/backend-factory';
import { ClusterBackend } from '../../../src/daemon/cluster-backend';
import { LocalStatusSource } from '../../../src/daemon/local-status';
import { Logger } from '../../../src/daemon/logger';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import { ipcStatusStoreFor, LocalIpcStatusStore } from '../../../src/ipc/status-store';
import type { RrdTarget } from '../../../src/kvstore/rrd-key';
import type { RrdSink } from '../../../src/rrd/rrd-writer';
import { parseArgs } from '../../../src/daemon/options';

const NOW = 1_700_000_000;

class RecordingSink implements RrdSink {
  written: RrdTarget[] = [];
  write(target: RrdTarget): void {
    this.written.push(target);
  }
  close(): void {}
}

const sample = (s: string) => Buffer.from(`${s}\0`);

function quietLogger(lines: string[]): Logger {
  const logger = new Logger('node1', true);
  logger.log = (domain, prio, msg) => lines.push(`[${domain}] ${prio}: ${msg}`);
  return logger;
}

describe('RRD samples reach the writer', () => {
  it('local mode: IPC SET_STATUS rrd/<key> → RrdSink.write with the file and update string', () => {
    const memdb = MemDb.open(new MemoryTreeStore(), NOW);
    const sink = new RecordingSink();
    const lines: string[] = [];
    const { backend } = createLocalBackend({ memdb, nodename: 'node1', starttime: NOW, clock: () => NOW, logger: quietLogger(lines), rrd: sink });
    const store = ipcStatusStoreFor(backend, 'node1', () => NOW);
    expect(store).toBeInstanceOf(LocalIpcStatusStore);

    expect(store!.setStatus('rrd/pve-storage-9.0/node1/local', sample(`${NOW}:100:20`))).toBe(0);
    expect(store!.setStatus('kv/other', Buffer.from('x'))).toBe(0);
    expect(sink.written).toEqual([{ kind: 'storage', file: 'pve-storage-9.0/node1/local', update: `${NOW}:100:20` }]);
    // still in the .rrd cache as before
    expect(backend.status.rrdDump()).toContain(`pve-storage-9.0/node1/local:${NOW}:100:20`);

    // an unknown key is logged, not written
    store!.setStatus('rrd/bogus/x', sample('1:2'));
    expect(sink.written).toHaveLength(1);
    expect(lines.some((l) => l.includes('unknown/wrong key'))).toBe(true);
  });

  it('local mode without a sink (older callers): SET_STATUS still works', () => {
    const memdb = MemDb.open(new MemoryTreeStore(), NOW);
    const status = new LocalStatusSource(memdb, 'n1', NOW, () => NOW);
    const store = new LocalIpcStatusStore(status, 'n1', () => NOW);
    expect(store.setStatus('rrd/pve2-node/n1', sample(`1:0:${NOW}:1:1:1:1:1:1:1:1:1:1:1:1`))).toBe(0);
    expect(status.rrdDump()).toContain('pve2-node/n1:');
  });

  it('cluster mode: SET_STATUS on the ClusterBackend (not started, no corosync) → RrdSink.write', async () => {
    const memdb = MemDb.open(new MemoryTreeStore(), NOW);
    const sink = new RecordingSink();
    const lines: string[] = [];
    const backend = new ClusterBackend({ memdb, nodename: 'node1', starttime: NOW, clock: () => NOW, logger: quietLogger(lines), rrd: sink, nodeIp: null });
    const vm = `60:web:running:0:${NOW}:${new Array(17).fill('1').join(':')}`;
    expect(backend.setStatus('rrd/pve-vm-9.0/100', sample(vm))).toBe(0);
    expect(sink.written).toEqual([{ kind: 'vm', file: 'pve-vm-9.0/100', update: `${NOW}:${new Array(17).fill('1').join(':')}` }]);
    expect(lines.some((l) => l.includes('not written to disk'))).toBe(false);
    await backend.stop();
  });

  it('daemon options --rrd-dir and --rrdcached-socket (default: unset = /var/lib/rrdcached/db and /var/run/rrdcached.sock)', () => {
    expect(parseArgs(['-f', '--rrd-dir', '/tmp/r', '--rrdcached-socket=none'])).toMatchObject({
      kind: 'run',
      options: { foreground: true, rrdDir: '/tmp/r', rrdcachedSocket: 'none' },
    });
    const plain = parseArgs(['-f']);
    expect(plain.kind === 'run' && plain.options.rrdDir === undefined && plain.options.rrdcachedSocket === undefined).toBe(true);
    expect(parseArgs(['--rrd-dir'])).toEqual({ kind: 'error', message: 'Missing argument for --rrd-dir' });
  });
});
