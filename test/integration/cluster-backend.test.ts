/**
 * ClusterBackend on its own (no FUSE) against a real one-node corosync: the start-up copy of
 * corosync.conf to the host file (§9, reload allowed), the status snapshot, writes applied through
 * CPG with the corosync nodeid as writer, kvstore status and cluster-log entries in the status
 * files, and stop() leaving nothing running (the process exits by itself).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, JsonLinesProcess, corosyncAvailable, renderCorosyncConf, type JsonEvent } from '../helpers/corosync';

const clientScript = path.resolve(__dirname, 'cluster-backend-client.ts');

describe.skipIf(!corosyncAvailable())('ClusterBackend with a real corosync', () => {
  let ns: CorosyncNamespace;
  let client: JsonLinesProcess;
  let hostConf: string;

  /** Asks for snapshots until `ok` accepts one (a hang check, not a speed check). */
  async function snapshotWhen(ok: (s: Record<string, any>) => boolean, timeoutMs = 60_000): Promise<JsonEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await client.request({ cmd: 'snapshot' }, 'snapshot');
      if (ok(e.snapshot as Record<string, any>)) return e;
      if (Date.now() > deadline) throw new Error(`snapshot never matched: ${JSON.stringify(e)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'snapcluster', configVersion: 4 });
    await ns.startCorosync();
    // The host file is older (version 1) than the tree's copy (version 4, = what corosync runs).
    hostConf = path.join(ns.dir, 'host-corosync.conf');
    fs.writeFileSync(hostConf, renderCorosyncConf({ ...ns.options, configVersion: 1 }, ns.dir));
    client = new JsonLinesProcess(ns.spawnNode(clientScript, [hostConf, ns.configPath], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await client.waitFor((e) => e.ev === 'ready');
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it('copies the newer corosync.conf to the host file at start-up and reloads corosync', async () => {
    expect(fs.readFileSync(hostConf, 'utf8')).toBe(fs.readFileSync(ns.configPath, 'utf8'));
    expect(fs.statSync(hostConf).mode & 0o777).toBe(0o644);
    await client.waitFor((e) => e.ev === 'log' && /corosync-cfgtool -R: corosync config reloaded/.test(String(e.msg)));
  });

  it('snapshot: cluster mode, quorate, nodeid 1, both DFSMs synced, the nodelist', async () => {
    const e = await snapshotWhen((s) => s.quorate && s.dfsm.dcdb.mode === 'SYNCED' && s.dfsm.kvstore.mode === 'SYNCED' && s.members.length === 1 && s.members[0].online);
    const s = e.snapshot as Record<string, any>;
    expect(s).toMatchObject({
      mode: 'cluster',
      nodename: 'node1',
      nodeid: 1,
      quorate: true,
      memdbErrors: false,
      cluster: { name: 'snapcluster', configVersion: 4 },
      members: [{ name: 'node1', nodeid: 1, online: true }],
    });
    expect(s.dfsm.dcdb).toMatchObject({ group: 'pve_dcdb_v1', joined: true, queued: 0, waiting: 0 });
    const ready = await client.waitFor((ev) => ev.ev === 'ready');
    expect(s.dfsm.dcdb.members).toEqual([{ nodeid: 1, pid: ready.pid }]);
    expect(s.dfsm.kvstore.members).toEqual([{ nodeid: 1, pid: ready.pid }]);
    expect(e.reloadExitCode).toBe(0);
  });

  it('writes are applied through CPG with the corosync nodeid as writer', async () => {
    const mkdir = await client.request({ cmd: 'submit', op: { kind: 'mkdir', path: 'nodes' } }, 'submitted');
    expect(mkdir).toMatchObject({ rc: 0, writer: 1 });
    const again = await client.request({ cmd: 'submit', op: { kind: 'mkdir', path: 'nodes' } }, 'submitted');
    expect(again.rc).toBe(-17); // EEXIST, decided at delivery
    await client.request({ cmd: 'submit', op: { kind: 'create', path: 'nodes/x.cfg' } }, 'submitted');
    const write = await client.request(
      { cmd: 'submit', op: { kind: 'write', path: 'nodes/x.cfg', offset: 0, data: 'abc', truncate: true } },
      'submitted',
    );
    expect(write).toMatchObject({ rc: 3, writer: 1 });
  });

  it('kvstore status, node IP and cluster-log entries show in the status files', async () => {
    expect((await client.request({ cmd: 'set-status', key: 'nodeip', value: '192.0.2.11\0' }, 'status-set')).rc).toBe(0);
    expect((await client.request({ cmd: 'set-status', key: 'tasklist', value: '[]' }, 'status-set')).rc).toBe(0);
    expect((await client.request({ cmd: 'set-status', key: 'big', value: 'x'.repeat(32769) }, 'status-set')).rc).toBe(-27); // EFBIG
    await client.request({ cmd: 'log', msg: 'hello "cluster"' }, 'logged');
    const files = await client.request({ cmd: 'files' }, 'files');
    expect(files.members).toContain('"node1": { "id": 1, "online": 1, "ip": "192.0.2.11"}');
    expect(files.members).toContain('"cluster": { "name": "snapcluster", "version": 4, "nodes": 1, "quorate": 1 }');
    expect(files.version).toMatch(/"kvstore": \{\n"node1": \{\n"tasklist": 0\}\n\}\n\}\n$/);
    const log = String(files.clusterlog);
    expect(log).toMatch(/^\{\n"data": \[\n\{"uid": 2, "time": \d+, "pri": 6, "tag": "test", "pid": \d+, "node": "node1", "user": "root@pam", "msg": "hello \\"cluster\\""\},\n/);
    expect(log).toContain('"msg": "starting cluster log"}');
    expect(files.rrd).toBe('');
  });

  it('stop() leaves the groups and the process exits by itself', async () => {
    await client.request({ cmd: 'stop' }, 'stopped');
    expect(await client.exited).toEqual({ code: 0, signal: null });
    expect(client.events.filter((e) => e.ev === 'fatal')).toEqual([]);
  });
});
