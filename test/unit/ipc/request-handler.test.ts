import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { LocalStatusSource } from '../../../src/daemon/local-status';
import { handleIpcRequest, type IpcClient } from '../../../src/ipc/request-handler';
import { cString, decodeResponse, encodeRequest, fixedCString, IpcOp } from '../../../src/ipc/protocol';
import { LocalIpcStatusStore } from '../../../src/ipc/status-store';
import { freshDb, mkdir, putFile, create } from '../memdb/helpers';

const NOW = 1_700_000_000;
const RW: IpcClient = { readOnly: false, pid: 4242 };
const RO: IpcClient = { readOnly: true, pid: 4343 };

function setup() {
  const { db } = freshDb();
  for (const d of ['nodes', 'nodes/n1', 'nodes/n1/qemu-server', 'nodes/n1/lxc', 'priv']) mkdir(db, d);
  putFile(db, 'nodes/n1/qemu-server/100.conf', 'name: web\nmemory: 2048\n');
  putFile(db, 'nodes/n1/lxc/200.conf', 'hostname: ct\n');
  putFile(db, 'datacenter.cfg', 'keyboard: en-us\n');
  create(db, 'empty.cfg');
  putFile(db, 'priv/token.cfg', 'root@pam!t aaaa\n');
  putFile(db, 'priv/secret', 'x');
  const status = new LocalStatusSource(db, 'n1', NOW - 10, () => NOW);
  const store = new LocalIpcStatusStore(status, 'n1', () => NOW);
  const services = { memdb: db, status, store };
  const call = (client: IpcClient, id: number, payload?: Buffer) => decodeResponse(handleIpcRequest(services, client, encodeRequest(id, payload)));
  return { db, status, call };
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const setStatusPayload = (name: string, value: Buffer) => Buffer.concat([fixedCString(name, 256), value]);
const getStatusPayload = (name: string, node = '') => Buffer.concat([fixedCString(name, 256), fixedCString(node, 256)]);
const logPayload = (prio: number, ident: string, tag: string, msg: string) =>
  Buffer.concat([Buffer.from([prio, ident.length + 1, tag.length + 1]), cString(ident), cString(tag), cString(msg)]);
const clusterLogPayload = (max: number, user: string) => Buffer.concat([u32(max), Buffer.alloc(12), cString(user)]);

describe('IPC request handler (spec §10)', () => {
  it('responses carry id, size = 24 + data, error; data only without error', () => {
    const { call, status } = setup();
    const r = call(RW, IpcOp.GET_FS_VERSION);
    expect(r).toMatchObject({ id: 1, error: 0 });
    expect(r.size).toBe(24 + r.data.length);
    expect(r.data.toString()).toBe(status.version());
    expect(call(RW, IpcOp.GET_CLUSTER_INFO).data.toString()).toBe(status.members());
    expect(call(RW, IpcOp.GET_GUEST_LIST).data.toString()).toBe(status.vmlist());
    const bad = call(RW, IpcOp.GET_FS_VERSION, Buffer.from([0]));
    expect(bad).toMatchObject({ id: 1, error: -Errno.EINVAL, size: 24 });
    expect(call(RW, IpcOp.GET_GUEST_LIST, Buffer.alloc(8)).error).toBe(-Errno.EINVAL);
  });

  it('unknown ids (and 9) -> ECHRNG', () => {
    const { call } = setup();
    for (const id of [0, 9, 14, 99, -1]) expect(call(RW, id)).toMatchObject({ id, error: -Errno.ECHRNG, size: 24 });
  });

  it('GET_CONFIG: bytes, ENOENT for missing/dir, empty file no data, EPERM for private from read-only', () => {
    const { call } = setup();
    expect(call(RO, IpcOp.GET_CONFIG, cString('datacenter.cfg')).data.toString()).toBe('keyboard: en-us\n');
    expect(call(RO, IpcOp.GET_CONFIG, cString('/nodes/n1/lxc/200.conf')).data.toString()).toBe('hostname: ct\n');
    expect(call(RO, IpcOp.GET_CONFIG, cString('missing.cfg')).error).toBe(-Errno.ENOENT);
    expect(call(RO, IpcOp.GET_CONFIG, cString('nodes')).error).toBe(-Errno.ENOENT);
    expect(call(RO, IpcOp.GET_CONFIG, cString('empty.cfg'))).toMatchObject({ error: 0, size: 24 });
    expect(call(RO, IpcOp.GET_CONFIG, cString('priv/secret')).error).toBe(-Errno.EPERM);
    expect(call(RO, IpcOp.GET_CONFIG, cString('priv/missing')).error).toBe(-Errno.EPERM);
    expect(call(RW, IpcOp.GET_CONFIG, cString('priv/secret')).data.toString()).toBe('x');
    expect(call(RW, IpcOp.GET_CONFIG).error).toBe(-Errno.EINVAL);
    // the last byte is the terminator even when it is not a NUL
    expect(call(RW, IpcOp.GET_CONFIG, Buffer.from('datacenter.cfgX')).data.toString()).toBe('keyboard: en-us\n');
  });

  it('SET_STATUS / GET_STATUS: own node, delete with an empty value, read-only EPERM, short EINVAL', () => {
    const { call, status } = setup();
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('kv/test', Buffer.from('v1')))).toMatchObject({ error: 0, size: 24 });
    expect(call(RO, IpcOp.GET_STATUS, getStatusPayload('kv/test')).data.toString()).toBe('v1');
    expect(call(RO, IpcOp.GET_STATUS, getStatusPayload('kv/test', 'n1')).data.toString()).toBe('v1');
    expect(call(RO, IpcOp.GET_STATUS, getStatusPayload('kv/test', 'other')).error).toBe(-Errno.ENOENT);
    expect(status.version()).toContain('"kv/test": 0');
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('kv/test', Buffer.alloc(0))).error).toBe(0);
    expect(call(RO, IpcOp.GET_STATUS, getStatusPayload('kv/test')).error).toBe(-Errno.ENOENT);
    expect(call(RO, IpcOp.SET_STATUS, setStatusPayload('kv/test', Buffer.from('v')))).toMatchObject({ error: -Errno.EPERM });
    expect(call(RW, IpcOp.SET_STATUS, Buffer.alloc(100)).error).toBe(-Errno.EINVAL);
    expect(call(RW, IpcOp.GET_STATUS, Buffer.alloc(300)).error).toBe(-Errno.EINVAL);
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('kv/big', Buffer.alloc(32769, 1))).error).toBe(-Errno.EFBIG);
  });

  it('SET_STATUS rrd/ feeds GET_RRD_DUMP (text + NUL)', () => {
    const { call } = setup();
    expect(call(RW, IpcOp.GET_RRD_DUMP).data).toEqual(Buffer.from([0]));
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('rrd/pve2-node/n1', cString('123:1:2'))).error).toBe(0);
    expect(call(RW, IpcOp.GET_RRD_DUMP).data.toString()).toBe('pve2-node/n1:123:1:2\n\0');
    expect(call(RW, IpcOp.GET_RRD_DUMP, Buffer.from([1])).error).toBe(-Errno.EINVAL);
  });

  // Observed on the reference in local mode (pmxcfs -l, 2026-12-07): a refused rrd/nodeip value
  // answers ENOMEM; every new nodeip bumps the clinfo version of .members and .version.
  it('local mode: SET_STATUS nodeip counts in the clinfo version; refused rrd/nodeip values ENOMEM', () => {
    const { call } = setup();
    const members = () => call(RW, IpcOp.GET_CLUSTER_INFO).data.toString();
    const clinfo = () => /"clinfo": (\d+),/.exec(call(RW, IpcOp.GET_FS_VERSION).data.toString())?.[1];
    expect(members()).toBe('{\n"nodename": "n1",\n"version": 0\n}\n');
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('nodeip', cString('10.0.0.9'))).error).toBe(0);
    expect(members()).toBe('{\n"nodename": "n1",\n"version": 1\n}\n');
    expect(clinfo()).toBe('1');
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('nodeip', cString('10.0.0.9'))).error).toBe(0);
    expect(clinfo()).toBe('1');
    expect(call(RW, IpcOp.SET_STATUS, setStatusPayload('nodeip', cString('garbage'))).error).toBe(0);
    expect(clinfo()).toBe('2');
    for (const [key, value] of [
      ['nodeip', Buffer.from('10.0.0.9')],
      ['nodeip', Buffer.alloc(0)],
      ['nodeip', cString('1'.repeat(300))],
      ['rrd/pve2-node/n1', Buffer.from('1:2')],
      ['rrd/pve2-node/n1', cString('1'.repeat(4095))],
    ] as const) {
      expect(call(RW, IpcOp.SET_STATUS, setStatusPayload(key, value)).error).toBe(-Errno.ENOMEM);
    }
    expect(clinfo()).toBe('2');
    expect(call(RW, IpcOp.GET_RRD_DUMP).data).toEqual(Buffer.from([0]));
  });

  it('LOG_CLUSTER_MSG stamps node, time and client pid; GET_CLUSTER_LOG filters and counts', () => {
    const { call } = setup();
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, logPayload(5, 'alice@pve', 'task', 'hello "world"')).error).toBe(0);
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, logPayload(6, 'bob@pve', 'task', 'second')).error).toBe(0);
    expect(call(RO, IpcOp.LOG_CLUSTER_MSG, logPayload(6, 'bob@pve', 'task', 'no'))).toMatchObject({ error: -Errno.EPERM });
    const all = JSON.parse(call(RO, IpcOp.GET_CLUSTER_LOG, clusterLogPayload(0, '')).data.toString());
    expect(all.data.map((e: { msg: string }) => e.msg)).toEqual(['second', 'hello "world"', 'starting cluster log']);
    expect(all.data[1]).toMatchObject({ node: 'n1', user: 'alice@pve', tag: 'task', pid: 4242, pri: 5, time: NOW });
    const alice = JSON.parse(call(RO, IpcOp.GET_CLUSTER_LOG, clusterLogPayload(0, 'alice@pve')).data.toString());
    expect(alice.data).toHaveLength(1);
    const one = JSON.parse(call(RO, IpcOp.GET_CLUSTER_LOG, clusterLogPayload(1, '')).data.toString());
    expect(one.data).toHaveLength(1);
    expect(call(RO, IpcOp.GET_CLUSTER_LOG, Buffer.alloc(16)).error).toBe(-Errno.EINVAL);
  });

  it('LOG_CLUSTER_MSG validation: ident/tag NUL where their lengths say, a message byte', () => {
    const { call } = setup();
    const good = logPayload(5, 'id', 'tg', 'm');
    const badIdent = Buffer.from(good);
    badIdent[2] = 5; // ident_len past its NUL
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, badIdent).error).toBe(-Errno.EINVAL);
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, Buffer.concat([Buffer.from([5, 3, 3]), cString('id'), cString('tg')])).error).toBe(-Errno.EINVAL);
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, Buffer.from([5, 3])).error).toBe(-Errno.EINVAL);
    // priority >= 8 is accepted and dropped
    expect(call(RW, IpcOp.LOG_CLUSTER_MSG, logPayload(8, 'id', 'tg', 'dropped')).error).toBe(0);
    const log = call(RW, IpcOp.GET_CLUSTER_LOG, clusterLogPayload(0, '')).data.toString();
    expect(log).not.toContain('dropped');
  });

  it('GET_GUEST_CONFIG_PROPERTY: vmid rules, property required', () => {
    const { call } = setup();
    const prop = (vmid: number, p: Buffer) => call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTY, Buffer.concat([u32(vmid), p]));
    expect(prop(100, cString('name')).data.toString()).toBe('{\n"100":{"name": "web"}\n}\n');
    expect(prop(0, cString('hostname')).data.toString()).toBe('{\n"200":{"hostname": "ct"}\n}\n');
    expect(prop(99, cString('name')).error).toBe(-Errno.EINVAL);
    expect(prop(1, cString('name')).error).toBe(-Errno.EINVAL);
    expect(prop(300, cString('name')).error).toBe(-Errno.ENOENT);
    expect(prop(100, Buffer.alloc(0)).error).toBe(-Errno.EINVAL);
    expect(prop(99, Buffer.alloc(0)).error).toBe(-Errno.EINVAL);
    expect(prop(300, Buffer.alloc(0)).error).toBe(-Errno.ENOENT);
  });

  it('GET_GUEST_CONFIG_PROPERTIES: count, non-empty a-z names, NUL-terminated, no trailing bytes', () => {
    const { call } = setup();
    const props = (vmid: number, n: number, p: Buffer) =>
      call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTIES, Buffer.concat([u32(vmid), Buffer.from([n]), p]));
    const two = Buffer.concat([cString('name'), cString('memory')]);
    expect(props(100, 2, two).data.toString()).toBe('{\n"100":{"name": "web","memory": "2048"}\n}\n');
    expect(props(0, 2, Buffer.concat([cString('hostname'), cString('name')])).data.toString()).toBe(
      '{\n"100":{"name": "web"},\n"200":{"hostname": "ct"}\n}\n',
    );
    expect(props(100, 0, two).error).toBe(-Errno.EINVAL);
    expect(props(100, 1, two).error).toBe(-Errno.EINVAL); // trailing bytes
    expect(props(100, 3, two).error).toBe(-Errno.EINVAL); // fewer names than announced
    expect(props(100, 1, Buffer.from('\0')).error).toBe(-Errno.EINVAL);
    expect(props(100, 1, cString('Name')).error).toBe(-Errno.EINVAL);
    expect(props(100, 1, cString('1name')).error).toBe(-Errno.EINVAL);
    expect(props(100, 1, Buffer.from('name')).error).toBe(-Errno.EINVAL);
    expect(props(100, 2, Buffer.concat([cString('name'), Buffer.from('\0')])).error).toBe(-Errno.EINVAL);
    expect(props(50, 1, cString('name')).error).toBe(-Errno.EINVAL);
    expect(props(101, 1, cString('name')).error).toBe(-Errno.ENOENT);
    // A request that ends after its vmid: the vmid is judged first (observed on the reference).
    expect(call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTIES, u32(101)).error).toBe(-Errno.ENOENT);
    expect(call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTIES, u32(50)).error).toBe(-Errno.EINVAL);
    expect(call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTIES, u32(100)).error).toBe(-Errno.EINVAL);
    expect(call(RO, IpcOp.GET_GUEST_CONFIG_PROPERTIES, Buffer.from([100, 0])).error).toBe(-Errno.EINVAL);
  });

  it('VERIFY_TOKEN: 0 for a line of priv/token.cfg, ENOENT otherwise, EINVAL for bad input', () => {
    const { call, db } = setup();
    expect(call(RO, IpcOp.VERIFY_TOKEN, cString('root@pam!t aaaa'))).toMatchObject({ error: 0, size: 24 });
    expect(call(RO, IpcOp.VERIFY_TOKEN, cString('root@pam!t aaab')).error).toBe(-Errno.ENOENT);
    expect(call(RO, IpcOp.VERIFY_TOKEN, cString('a\nb')).error).toBe(-Errno.EINVAL);
    expect(call(RO, IpcOp.VERIFY_TOKEN, Buffer.from('abc')).error).toBe(-Errno.EINVAL);
    db.apply({ kind: 'delete', path: 'priv/token.cfg' }, { writer: 0, mtime: NOW }, NOW);
    expect(call(RO, IpcOp.VERIFY_TOKEN, cString('root@pam!t aaaa')).error).toBe(-Errno.ENOENT);
  });

  it('a message shorter than a header -> EINVAL', () => {
    const { db, status } = setup();
    const store = new LocalIpcStatusStore(status, 'n1', () => NOW);
    const r = decodeResponse(handleIpcRequest({ memdb: db, status, store }, RW, Buffer.from([1, 0, 0, 0])));
    expect(r).toMatchObject({ id: 1, error: -Errno.EINVAL });
  });
});
