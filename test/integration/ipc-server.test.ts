/**
 * The pve2 IPC service of a real local-mode daemon, through a real libqb client (as PVE::IPCC):
 * every operation's reply bytes, ECHRNG, the read-only client (gid www-data, via setpriv), a client
 * of another gid refused, and the figures of GET_GUEST_CONFIG_PROPERTY over 10,000 guests.
 * Each daemon serves its own service name (PMXCFS_IPC_SERVICE), so this never collides with
 * another daemon on the host.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Errno } from '../../src/memdb/errno';
import { QbIpcClient } from '../../src/ipc/qb-client';
import { cString, fixedCString, IpcOp } from '../../src/ipc/protocol';
import { asWwwData, cleanup, startDaemon, type DaemonHandle } from './daemon-harness';
import { spawnSync } from 'node:child_process';

const CLIENT_JS = resolve(__dirname, '../../dist/src/ipc/qb-client.js');
const SERVICE = `pve2-it-${process.pid}`;

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** Runs requests in a child process (as another user) and returns [error, data-as-text] per request. */
function requestsAs(runAs: (cmd: string[]) => { status: number | null; stdout: string; stderr: string }, reqs: { id: number; payload?: string }[]) {
  const script = `
    const { QbIpcClient } = require(${JSON.stringify(CLIENT_JS)});
    let c;
    try { c = QbIpcClient.connect(${JSON.stringify(SERVICE)}); } catch (e) { console.log(JSON.stringify({ connectErrno: e.errno })); process.exit(0); }
    const out = ${JSON.stringify(reqs)}.map((r) => {
      const res = c.request(r.id, r.payload === undefined ? undefined : Buffer.from(r.payload, 'base64'));
      return [res.error, res.data.toString()];
    });
    c.close();
    console.log(JSON.stringify({ out }));`;
  const r = runAs(['node', '-e', script]);
  if (r.status !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { connectErrno?: number; out?: [number, string][] };
}

describe('pve2 IPC service (spec §10)', () => {
  let d: DaemonHandle | undefined;
  let client: QbIpcClient;

  beforeAll(async () => {
    d = await startDaemon({ env: { PMXCFS_IPC_SERVICE: SERVICE } });
    const m = d.mnt;
    mkdirSync(join(m, 'nodes/node1/qemu-server'), { recursive: true });
    mkdirSync(join(m, 'nodes/node1/lxc'), { recursive: true });
    mkdirSync(join(m, 'priv'), { recursive: true });
    writeFileSync(join(m, 'nodes/node1/qemu-server/100.conf'), 'name: web\nmemory: 2048\nlock: backup\n[snap]\nname: old\n');
    writeFileSync(join(m, 'nodes/node1/lxc/200.conf'), 'hostname: ct1\nmemory: 512\n');
    writeFileSync(join(m, 'datacenter.cfg'), 'keyboard: de\n');
    writeFileSync(join(m, 'empty.cfg'), '');
    writeFileSync(join(m, 'priv/token.cfg'), 'root@pam!tok 1234-abcd\n');
    client = QbIpcClient.connect(SERVICE);
  });

  afterAll(async () => {
    client?.close();
    await cleanup(d);
  });

  it('status files: GET_FS_VERSION, GET_CLUSTER_INFO, GET_GUEST_LIST reply the bytes of .version, .members, .vmlist', async () => {
    const { readFileSync } = await import('node:fs');
    const members = client.request(IpcOp.GET_CLUSTER_INFO);
    expect(members).toMatchObject({ id: 2, error: 0 });
    expect(members.size).toBe(24 + members.data.length);
    expect(members.data.toString()).toBe('{\n"nodename": "node1",\n"version": 0\n}\n');
    const vmlist = client.request(IpcOp.GET_GUEST_LIST);
    expect(vmlist.data.toString()).toBe(readFileSync(join(d!.mnt, '.vmlist'), 'utf8'));
    expect(JSON.parse(vmlist.data.toString()).ids).toEqual({
      '100': { node: 'node1', type: 'qemu', version: expect.any(Number) },
      '200': { node: 'node1', type: 'lxc', version: expect.any(Number) },
    });
    const version = client.request(IpcOp.GET_FS_VERSION);
    expect(version.data.toString()).toBe(readFileSync(join(d!.mnt, '.version'), 'utf8'));
    expect(client.request(IpcOp.GET_FS_VERSION, Buffer.from([0]))).toMatchObject({ error: -Errno.EINVAL, size: 24 });
  });

  it('GET_CONFIG: bytes, ENOENT for missing and directory, empty file without data', () => {
    expect(client.request(IpcOp.GET_CONFIG, cString('datacenter.cfg')).data.toString()).toBe('keyboard: de\n');
    expect(client.request(IpcOp.GET_CONFIG, cString('priv/token.cfg')).data.toString()).toBe('root@pam!tok 1234-abcd\n');
    expect(client.request(IpcOp.GET_CONFIG, cString('nope.cfg'))).toMatchObject({ error: -Errno.ENOENT, size: 24 });
    expect(client.request(IpcOp.GET_CONFIG, cString('nodes'))).toMatchObject({ error: -Errno.ENOENT, size: 24 });
    expect(client.request(IpcOp.GET_CONFIG, cString('empty.cfg'))).toMatchObject({ error: 0, size: 24 });
  });

  it('SET_STATUS / GET_STATUS round trip; rrd keys show in GET_RRD_DUMP (text + NUL)', () => {
    const set = (name: string, value: Buffer) => client.request(IpcOp.SET_STATUS, Buffer.concat([fixedCString(name, 256), value]));
    const get = (name: string, node = '') => client.request(IpcOp.GET_STATUS, Buffer.concat([fixedCString(name, 256), fixedCString(node, 256)]));
    expect(set('kv/it', Buffer.from('value-1'))).toMatchObject({ id: 4, error: 0, size: 24 });
    expect(get('kv/it').data.toString()).toBe('value-1');
    expect(get('kv/it', 'node1').data.toString()).toBe('value-1');
    expect(get('kv/none')).toMatchObject({ error: -Errno.ENOENT, size: 24 });
    const sample = `${Math.floor(Date.now() / 1000)}:1:0.5`;
    expect(set('rrd/pve2-node/node1', cString(sample)).error).toBe(0);
    expect(client.request(IpcOp.GET_RRD_DUMP).data.toString()).toBe(`pve2-node/node1:${sample}\n\0`);
  });

  it('LOG_CLUSTER_MSG is stamped with node and client pid; GET_CLUSTER_LOG filters by user', () => {
    const log = (prio: number, ident: string, tag: string, msg: string) =>
      client.request(IpcOp.LOG_CLUSTER_MSG, Buffer.concat([Buffer.from([prio, ident.length + 1, tag.length + 1]), cString(ident), cString(tag), cString(msg)]));
    expect(log(6, 'it@pam', 'ipctest', 'hello from the test')).toMatchObject({ error: 0, size: 24 });
    const req = (max: number, user: string) => Buffer.concat([u32(max), Buffer.alloc(12), cString(user)]);
    const mine = JSON.parse(client.request(IpcOp.GET_CLUSTER_LOG, req(0, 'it@pam')).data.toString());
    expect(mine.data).toHaveLength(1);
    expect(mine.data[0]).toMatchObject({ node: 'node1', user: 'it@pam', tag: 'ipctest', pid: process.pid, pri: 6, msg: 'hello from the test' });
    const all = JSON.parse(client.request(IpcOp.GET_CLUSTER_LOG, req(0, '')).data.toString());
    expect(all.data.map((e: { msg: string }) => e.msg)).toEqual(['hello from the test', 'starting cluster log']);
  });

  it('guest properties and tokens', () => {
    const prop = (vmid: number, p: string) => client.request(IpcOp.GET_GUEST_CONFIG_PROPERTY, Buffer.concat([u32(vmid), cString(p)]));
    expect(prop(100, 'name').data.toString()).toBe('{\n"100":{"name": "web"}\n}\n');
    expect(prop(0, 'memory').data.toString()).toBe('{\n"100":{"memory": "2048"},\n"200":{"memory": "512"}\n}\n');
    expect(prop(99, 'name').error).toBe(-Errno.EINVAL);
    expect(prop(12345, 'name').error).toBe(-Errno.ENOENT);
    const props = client.request(
      IpcOp.GET_GUEST_CONFIG_PROPERTIES,
      Buffer.concat([u32(100), Buffer.from([2]), cString('lock'), cString('name')]),
    );
    expect(props.data.toString()).toBe('{\n"100":{"lock": "backup","name": "web"}\n}\n');
    expect(client.request(IpcOp.VERIFY_TOKEN, cString('root@pam!tok 1234-abcd'))).toMatchObject({ id: 12, error: 0, size: 24 });
    expect(client.request(IpcOp.VERIFY_TOKEN, cString('root@pam!tok 1234-abce')).error).toBe(-Errno.ENOENT);
    expect(client.request(IpcOp.VERIFY_TOKEN, cString('a\nb')).error).toBe(-Errno.EINVAL);
  });

  it('unknown operations -> ECHRNG', () => {
    for (const id of [9, 14, 1000]) expect(client.request(id)).toMatchObject({ id, error: -Errno.ECHRNG, size: 24 });
  });

  it('a www-data client is read-only: EPERM for SET_STATUS, LOG_CLUSTER_MSG and a private GET_CONFIG', () => {
    const b64 = (b: Buffer) => b.toString('base64');
    const res = requestsAs(asWwwData, [
      { id: IpcOp.GET_CONFIG, payload: b64(cString('datacenter.cfg')) },
      { id: IpcOp.GET_CONFIG, payload: b64(cString('priv/token.cfg')) },
      { id: IpcOp.SET_STATUS, payload: b64(Buffer.concat([fixedCString('kv/ro', 256), Buffer.from('x')])) },
      { id: IpcOp.LOG_CLUSTER_MSG, payload: b64(Buffer.concat([Buffer.from([6, 3, 3]), cString('ro'), cString('tg'), cString('m')])) },
      { id: IpcOp.GET_CLUSTER_INFO },
    ]);
    expect(res.out).toEqual([
      [0, 'keyboard: de\n'],
      [-Errno.EPERM, ''],
      [-Errno.EPERM, ''],
      [-Errno.EPERM, ''],
      [0, '{\n"nodename": "node1",\n"version": 0\n}\n'],
    ]);
  });

  it('a client of another gid is refused at connect (EACCES)', () => {
    const nobody = (cmd: string[]) => {
      const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...cmd], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    expect(requestsAs(nobody, [{ id: IpcOp.GET_FS_VERSION }])).toEqual({ connectErrno: Errno.EACCES });
  });

  it('figures: simple round trip and GET_GUEST_CONFIG_PROPERTY over 10,000 guests', () => {
    const rounds = 5000;
    let t = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) client.request(IpcOp.GET_CLUSTER_INFO);
    const roundTripUs = Number(process.hrtime.bigint() - t) / 1000 / rounds;

    const dir = join(d!.mnt, 'nodes/node1/qemu-server');
    for (let vmid = 1000; vmid < 11000; vmid++) {
      writeFileSync(
        join(dir, `${vmid}.conf`),
        `boot: order=scsi0\ncores: 2\nmemory: 4096\nname: guest-${vmid}\nnet0: virtio=AA:BB:CC:00:00:01,bridge=vmbr0\n` +
          `ostype: l26\nscsi0: local-lvm:vm-${vmid}-disk-0,size=32G\nscsihw: virtio-scsi-pci\nsmbios1: uuid=00000000-0000-0000-0000-000000000000\n` +
          `sockets: 1\nvmgenid: 00000000-0000-0000-0000-000000000000\n${vmid % 10 === 0 ? 'lock: backup\n' : ''}`,
      );
    }
    const timed = (payload: Buffer, id: number = IpcOp.GET_GUEST_CONFIG_PROPERTY) => {
      t = process.hrtime.bigint();
      const r = client.request(id, payload);
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
    };
    const lock = Buffer.concat([u32(0), cString('lock')]);
    const first = timed(lock);
    const repeated = [timed(lock), timed(lock), timed(lock)];
    const two = timed(Buffer.concat([u32(0), Buffer.from([2]), cString('lock'), cString('name')]), IpcOp.GET_GUEST_CONFIG_PROPERTIES);
    expect(first.r.error).toBe(0);
    expect(Object.keys(JSON.parse(first.r.data.toString()))).toHaveLength(1000 + 1); // every 10th + 100
    expect(Object.keys(JSON.parse(two.r.data.toString()))).toHaveLength(10001); // 200 (lxc) has neither
    console.log(
      `[ipc figures] round trip GET_CLUSTER_INFO ${roundTripUs.toFixed(1)} us; GET_GUEST_CONFIG_PROPERTY 'lock' over 10,002 guests: ` +
        `first ${first.ms.toFixed(1)} ms, repeated ${repeated.map((x) => x.ms.toFixed(1)).join('/')} ms; ` +
        `two properties ${two.ms.toFixed(1)} ms (${two.r.data.length} bytes)`,
    );
  });
});
