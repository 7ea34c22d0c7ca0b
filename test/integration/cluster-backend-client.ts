/**
 * A program for test/integration/cluster-backend.test.ts: runs a ClusterBackend (in-memory tree)
 * inside the test's network namespace and talks JSON lines (commands on stdin, events on stdout).
 *
 * Usage: node -r test/helpers/ts-require.cjs cluster-backend-client.ts <host corosync.conf> <tree corosync.conf>
 * Commands: {cmd:"snapshot"} {cmd:"submit", op} {cmd:"files"} {cmd:"set-status", key, value}
 *   {cmd:"log", msg} {cmd:"stop"}
 * Events: ready, snapshot, submitted, files, status-set, logged, stopped, log, fatal.
 */
import { readFileSync } from 'node:fs';
import * as readline from 'node:readline';
import { ClusterBackend } from '../../src/daemon/cluster-backend';
import { Logger } from '../../src/daemon/logger';
import { MemDb } from '../../src/memdb/memdb';
import { MemoryTreeStore } from '../../src/memdb/memory-store';
import type { FsOp } from '../../src/memdb/types';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

process.on('uncaughtException', (err) => {
  emit({ ev: 'fatal', error: String(err.stack ?? err) });
  process.exit(99);
});
process.on('unhandledRejection', (err) => {
  emit({ ev: 'fatal', error: String(err) });
  process.exit(98);
});

const [hostConf, treeConf] = process.argv.slice(2) as [string, string];
const now = () => Math.floor(Date.now() / 1000);
const memdb = MemDb.open(new MemoryTreeStore(), now());
const origin = { writer: 0, mtime: now() };
memdb.apply({ kind: 'create', path: 'corosync.conf' }, origin, now());
memdb.apply({ kind: 'write', path: 'corosync.conf', offset: 0, data: readFileSync(treeConf), truncate: true }, origin, now());

const logger = new Logger('node1', true);
logger.log = (domain, prio, msg) => emit({ ev: 'log', domain, prio, msg });

const backend = new ClusterBackend({
  memdb,
  nodename: 'node1',
  starttime: now(),
  clock: now,
  logger,
  hostCorosyncConf: hostConf,
  nodeIp: null,
  verifyIntervalS: 1,
  reconnectDelayMs: 1000,
});
backend.start();

async function handle(command: Record<string, unknown>): Promise<void> {
  switch (command.cmd) {
    case 'snapshot':
      emit({ ev: 'snapshot', snapshot: backend.snapshot(), reloadExitCode: backend.corosyncConf.lastReloadExitCode ?? null });
      return;
    case 'submit': {
      const op = command.op as FsOp & { data?: string };
      const real = (op.kind === 'write' ? { ...op, data: Buffer.from(op.data ?? '') } : op) as FsOp;
      const rc = await backend.submit(real);
      const path = 'path' in real ? real.path : '';
      emit({ ev: 'submitted', rc, writer: memdb.lookup(path)?.writer ?? null });
      return;
    }
    case 'files':
      emit({
        ev: 'files',
        members: backend.status.members(),
        version: backend.status.version(),
        clusterlog: backend.status.clusterLog(),
        vmlist: backend.status.vmlist(),
        rrd: backend.status.rrdDump(),
      });
      return;
    case 'set-status':
      emit({ ev: 'status-set', rc: backend.setStatus(command.key as string, Buffer.from(command.value as string, 'utf8')) });
      return;
    case 'log':
      backend.logCluster({ ident: 'root@pam', tag: 'test', pid: process.pid, priority: 6, msg: command.msg as string });
      emit({ ev: 'logged' });
      return;
    case 'stop':
      await backend.stop();
      rl.close();
      process.stdin.destroy();
      emit({ ev: 'stopped' });
      // Nothing may be left running: the process has to exit on its own now.
      return;
    default:
      emit({ ev: 'fatal', error: `unknown command ${JSON.stringify(command)}` });
  }
}

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  const command = JSON.parse(line) as Record<string, unknown>;
  chain = chain.then(() => handle(command));
});
emit({ ev: 'ready', pid: process.pid });
