/**
 * Asks the `pve2` IPC service of the daemon in this namespace a fixed list of questions and prints
 * one JSON line per request ({name, id, size, error, text} or {name, exc}). Run it once against the
 * reference pmxcfs and once against pmxcfs-ts, each in its own namespace (lab/compat/ns-pair.sh), then
 * compare the two outputs with lab/compat/compare-records. Sends requests of every operation with
 * typical and edge-case payloads (missing names, wrong sizes, no NUL, invalid UTF-8, unknown ids).
 *
 *   node dist/lab/compat/ipc-probe.js PHASE [ARG]
 *   PHASE: all (= basic config status log guest token header), or one of those, or log2, rrd2, bigcfg SIZE
 */
import { createHash } from 'node:crypto';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import { QbIpcClient } from '../../src/ipc/qb-client';
import { encodeRequest } from '../../src/ipc/protocol';

interface ProbeRecord {
  name: string;
  id?: number;
  size?: number;
  error?: number;
  text?: string | string[];
  exc?: string;
}

const c = QbIpcClient.connect('pve2');
const emit = (rec: ProbeRecord): void => console.log(JSON.stringify(rec));

function raw(name: string, buf: Buffer): void {
  try {
    const res = c.sendRaw(buf);
    const data = res.subarray(24);
    const text = data.length > 4_000_000 ? `LEN ${data.length} ${createHash('sha256').update(data).digest('hex')}` : data.toString('latin1');
    emit({ name, id: res.readInt32LE(0), size: res.readInt32LE(8), error: res.readInt32LE(16), text });
  } catch (e) {
    emit({ name, exc: (e as Error).message });
  }
}
const req = (name: string, id: number, payload?: Buffer): void => raw(name, encodeRequest(id, payload));
/** Latin-1 C string (every byte as given: lets a case send invalid UTF-8). */
const cs = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(1)]);
const fixed = (s: string, n: number): Buffer => {
  const b = Buffer.alloc(n);
  Buffer.from(s, 'latin1').copy(b, 0, 0, n);
  return b;
};
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const cat = (...a: (string | Buffer)[]): Buffer => Buffer.concat(a.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x)));
const setStatus = (name: string, key: string, value: string | Buffer): void => req(name, 4, cat(fixed(key, 256), value));
const getStatus = (name: string, key: string, node: string): void => req(name, 5, cat(fixed(key, 256), fixed(node, 256)));
const logMsg = (name: string, pri: number, ident: string, tag: string, msg: Buffer, identLen?: number, tagLen?: number): void => {
  const i = cs(ident);
  const t = cs(tag);
  req(name, 7, cat(Buffer.from([pri, identLen ?? i.length, tagLen ?? t.length]), i, t, msg));
};
const getLog = (name: string, max: number, user: string | null, extra?: string): void =>
  req(name, 8, cat(u32(max), u32(0), u32(0), u32(0), user === null ? '' : cs(user), extra ?? ''));
const prop = (name: string, vmid: number, p: Buffer): void => req(name, 11, cat(u32(vmid), p));
const props = (name: string, vmid: number, n: number, ps: Buffer): void => req(name, 13, cat(u32(vmid), Buffer.from([n]), ps));
const phase = process.argv[2] ?? 'all';

if (phase === 'basic' || phase === 'all') {
  req('fsversion', 1); req('fsversion+1', 1, Buffer.from([0]));
  req('clusterinfo', 2); req('clusterinfo+1', 2, Buffer.from([0]));
  req('guestlist', 3); req('guestlist+1', 3, Buffer.from([0]));
  for (const id of [0, 9, 14, 15, 100, -1]) req('unknown' + id, id);
  req('rrddump-empty', 10); req('rrddump+1', 10, Buffer.from([0]));
}
if (phase === 'config' || phase === 'all') {
  for (const p of ['storage.cfg', '/storage.cfg', '//storage.cfg', 'storage.cfg/', './storage.cfg', 'nodes', 'missing.cfg', '', 'priv/authkey.key', 'priv/token.cfg',
    '.version', '.members', '.vmlist', '.clusterlog', '.rrd', '.debug', 'local', 'local/pve-ssl.pem', 'qemu-server/100.conf',
    'nodes/oracle-node/qemu-server/100.conf', 'nodes/oracle-node/lrm_status', 'nodes/oracle-node/priv/pve-ssl.key', 'nodes/oracle-node//priv/pve-ssl.key',
    'nodes/../storage.cfg', 'nodes/oracle-node/../../storage.cfg', 'STORAGE.CFG', 'emptyfile', 'nodes/oracle-node/lxc/200.conf/x'])
    req('getconfig ' + JSON.stringify(p), 6, cs(p));
  req('getconfig nonul', 6, Buffer.from('storage.cfg'));
  req('getconfig nonul+x', 6, Buffer.from('storage.cfgX'));
  req('getconfig empty-payload', 6);
  req('getconfig one-nul', 6, Buffer.alloc(1));
  req('getconfig embedded-nul', 6, cat('storage.cfg', Buffer.alloc(1), 'xyz', Buffer.alloc(1)));
  req('getconfig invalid-utf8', 6, cat(Buffer.from([0xff, 0xfe]), Buffer.alloc(1)));
}
if (phase === 'status' || phase === 'all') {
  setStatus('set kv/test', 'kv/test', 'hello');
  getStatus('get kv/test ""', 'kv/test', '');
  getStatus('get kv/test node1', 'kv/test', 'node1');
  getStatus('get kv/test other', 'kv/test', 'othernode');
  getStatus('get kv/test oracle-node', 'kv/test', 'oracle-node');
  getStatus('get missing', 'kv/missing', '');
  getStatus('get empty key', '', '');
  setStatus('set tasklist', 'tasklist', '[{"x":1}]');
  getStatus('get tasklist', 'tasklist', '');
  setStatus('set kv/bin', 'kv/bin', Buffer.from([0, 1, 2, 255, 0]));
  getStatus('get kv/bin', 'kv/bin', '');
  setStatus('set kv/test empty', 'kv/test', '');
  getStatus('get kv/test after empty', 'kv/test', '');
  setStatus('set kv/big 32k', 'kv/big', Buffer.alloc(32767, 0x41));
  getStatus('get kv/big', 'kv/big', '');
  setStatus('set kv/huge 64k', 'kv/huge', Buffer.alloc(65536, 0x42));
  getStatus('get kv/huge', 'kv/huge', '');
  setStatus('set kv/huge2 1M-300', 'kv/huge2', Buffer.alloc(1024 * 1024 - 400, 0x43));
  getStatus('get kv/huge2', 'kv/huge2', '');
  setStatus('set empty name', '', 'x');
  setStatus('set name255', 'k'.repeat(255), 'v255');
  getStatus('get name255', 'k'.repeat(255), '');
  req('set name256 nonul', 4, cat(Buffer.alloc(256, 0x6b), 'v'));
  req('set short', 4, Buffer.from('kv/x'));
  req('set exactly header', 4, fixed('kv/noval', 256));
  getStatus('get kv/noval', 'kv/noval', '');
  req('get short', 5, fixed('kv/test', 256));
  req('get header+1', 5, cat(fixed('tasklist', 256), fixed('', 256), 'x'));
  setStatus('set nodeip', 'nodeip', '10.0.0.9');
  getStatus('get nodeip', 'nodeip', '');
  setStatus('set nodeip bad', 'nodeip', 'garbage');
  setStatus('set rrd node', 'rrd/pve2-node/node1', '12345:0:1796630000:0.12:8:0.015:0.0003:33554432000:4294967296:8589934592:0:100000000000:5000000000:123456789:98765432');
  setStatus('set rrd vm', 'rrd/pve2.3-vm/100', '3600:vm100:running:0:1796630000:2:0.01:2147483648:1073741824:34359738368:0:1000:2000:0:0');
  setStatus('set rrd storage', 'rrd/pve2-storage/node1/local', '1796630000:100000000000:5000000000');
  setStatus('set rrd badkey', 'rrd/unknown/x', '1:2');
  setStatus('set rrd empty', 'rrd/pve2-node/node2', '');
  getStatus('get rrd node', 'rrd/pve2-node/node1', '');
  req('rrddump', 10);
  req('fsversion after', 1);
  req('clusterinfo after', 2);
  setStatus('setZ nodeip', 'nodeip', cs('10.0.0.9'));
  getStatus('getZ nodeip', 'nodeip', '');
  req('clusterinfo after nodeip', 2);
  setStatus('setZ nodeip same', 'nodeip', cs('10.0.0.9'));
  setStatus('setZ nodeip garbage', 'nodeip', cs('garbage'));
  getStatus('getZ nodeip2', 'nodeip', '');
  setStatus('setZ nodeip empty', 'nodeip', Buffer.alloc(0));
  setStatus('setZ nodeip 300', 'nodeip', cs('1'.repeat(300)));
  setStatus('setZ rrd node', 'rrd/pve2-node/node1', cs('12345:0:1796630000:0.12:8:0.015:0.0003:33554432000:4294967296:8589934592:0:100000000000:5000000000:123456789:98765432'));
  setStatus('setZ rrd vm', 'rrd/pve2.3-vm/100', cs('3600:vm100:running:0:1796630000:2:0.01:2147483648:1073741824:34359738368:0:1000:2000:0:0'));
  setStatus('setZ rrd storage', 'rrd/pve2-storage/node1/local', cs('1796630000:100000000000:5000000000'));
  setStatus('setZ rrd new node', 'rrd/pve-node-9.0/node1', cs('12345:0:1796630060:0.12:8:0.015:0.0003:33554432000:4294967296:8589934592:0:100000000000:5000000000:123456789:98765432:1:2:3:4:5:6:7'));
  setStatus('setZ rrd badkey', 'rrd/unknown/x', cs('1:2'));
  setStatus('setZ rrd garbage', 'rrd/pve2-node/node9', cs('garbage'));
  setStatus('setZ rrd 4096', 'rrd/pve2-node/node8', cs('1'.repeat(4095)));
  setStatus('setZ rrd 4095', 'rrd/pve2-node/node7', cs('1'.repeat(4094)));
  setStatus('setZ rrd nul only', 'rrd/pve2-node/node6', Buffer.alloc(1));
  setStatus('setZ rrd embedded nul', 'rrd/pve2-node/node5', cat('1:2', Buffer.alloc(1), 'x', Buffer.alloc(1)));
  getStatus('getZ rrd node', 'rrd/pve2-node/node1', '');
  req('rrddumpZ', 10);
  req('clusterinfoZ', 2);
  req('fsversionZ', 1);
  setStatus('set kv/utf8', 'kv/\u00e9t\u00e9', 'x');
  req('fsversion after utf8', 1);
}
if (phase === 'log' || phase === 'all') {
  logMsg('log normal', 6, 'root@pam', 'pvedaemon', cs('hello world'));
  logMsg('log escapes', 5, 'root@pam', 'tag"q', cs('q"uote back\\slash tab\tnl\nctl\x01del\x7f'));
  logMsg('log utf8', 6, 'us\u00e9r', 't\u00e4g', cat(Buffer.from('caf\u00e9 \u20ac \u{1F600} end', 'utf8'), Buffer.alloc(1)));
  logMsg('log invalid utf8', 6, 'root@pam', 'x', cat(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x62]), Buffer.alloc(1)));
  logMsg('log pri 7', 7, 'root@pam', 'dbg', cs('debug msg'));
  logMsg('log pri 8', 8, 'root@pam', 'dbg', cs('dropped'));
  logMsg('log pri 255', 255, 'root@pam', 'dbg', cs('dropped'));
  logMsg('log empty msg', 6, 'root@pam', 'x', cs(''));
  logMsg('log nomsg', 6, 'root@pam', 'x', Buffer.alloc(0));
  logMsg('log no nul', 6, 'root@pam', 'x', Buffer.from('abc'));
  logMsg('log ident len 0', 6, 'root@pam', 'x', cs('m'), 0);
  logMsg('log ident len wrong', 6, 'root@pam', 'x', cs('m'), 3);
  logMsg('log tag len wrong', 6, 'root@pam', 'xyz', cs('m'), undefined, 2);
  logMsg('log empty ident', 6, '', '', cs('anon'));
  logMsg('log long ident', 6, 'i'.repeat(254), 't'.repeat(254), cs('long'));
  logMsg('log long msg', 6, 'root@pam', 'x', cs('m'.repeat(5000)));
  logMsg('log quotes ident', 6, 'a"b\\c', 't"\\g', cs('m'));
  req('log short', 7, Buffer.from([6, 1]));
  req('log header only', 7, Buffer.from([6, 1, 1]));
  for (let i = 0; i < 60; i++) logMsg('log bulk ' + i, 6, i % 2 ? 'alice@pve' : 'root@pam', 'bulk', cs('entry ' + i));
  getLog('getlog 0 all', 0, '');
  getLog('getlog 1 all', 1, '');
  getLog('getlog 5 root', 5, 'root@pam');
  getLog('getlog 5 alice', 5, 'alice@pve');
  getLog('getlog 100 all', 100, '');
  getLog('getlog 1000 nobody', 1000, 'nobody');
  getLog('getlog 3 root (ident of cluster start)', 3, 'root');
  getLog('getlog nouser', 5, null);
  getLog('getlog nonul user', 5, null, 'root@pam');
  req('getlog short', 8, u32(5));
  req('getlog header only', 8, cat(u32(5), u32(0), u32(0), u32(0)));
  getLog('getlog max huge', 0xffffffff, '');
}
if (phase === 'log2') {
  const u = (t: string): Buffer => Buffer.concat([Buffer.from(t, 'utf8'), Buffer.alloc(1)]);
  const lm = (name: string, pri: number, ident: string, tag: string, msg: Buffer): void => { const i = u(ident), t = u(tag); req(name, 7, cat(Buffer.from([pri, i.length, t.length]), i, t, msg)); };
  lm('utf8 ident', 6, 'us\u00e9r@pve', 't\u00e4g', u('caf\u00e9 \u20ac \u{1F600} \u00ff end'));
  lm('json-ish', 6, 'root@pam', 'x', u('{"a":[1,2]} </script> \\u0041'));
  lm('ctl', 6, 'root@pam', 'x', cat(Buffer.from([1, 2, 9, 10, 13, 27, 31, 127, 0x80, 0xc0]), Buffer.alloc(1)));
  lm('bmp edge', 6, 'root@pam', 'x', u('\u0800\uffff\u07ff\u0080'));
  lm('ident ctl', 6, 'ro\tot', 'ta\ng', u('m'));
  for (let i = 0; i < 700; i++) lm('bulk' + i, i % 8, 'user' + (i % 3) + '@pve', 'tag' + i, u('x'.repeat(i * 7 % 300) + ' n' + i));
  getLog('getlog after wrap 0', 0, '');
  getLog('getlog after wrap 2000', 2000, '');
  getLog('getlog user1 30', 30, 'user1@pve');
  getLog('getlog utf8 ident', 5, 'us\u00e9r@pve');
  emit({ name: 'fuse .clusterlog', text: fs.readFileSync('/etc/pve/.clusterlog', 'latin1') });
}
if (phase === 'rrd2') {
  const sleep = (ms: number): unknown => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  sleep(2100);
  // A fixed time: the dump shows the samples as sent, so both runs must send the same bytes.
  const now = 1796630100;
  setStatus('setZ rrd node', 'rrd/pve2-node/node1', cs(`12345:0:${now}:0.12:8:0.015:0.0003:33554432000:4294967296:8589934592:0:100000000000:5000000000:123456789:98765432`));
  setStatus('setZ rrd vm', 'rrd/pve2.3-vm/100', cs(`3600:vm100:running:0:${now}:2:0.01:2147483648:1073741824:34359738368:0:1000:2000:0:0`));
  setStatus('setZ rrd storage', 'rrd/pve2-storage/node1/local', cs(`${now}:100000000000:5000000000`));
  setStatus('setZ rrd nul only', 'rrd/pve2-node/node6', Buffer.alloc(1));
  setStatus('setZ rrd embedded nul', 'rrd/pve2-node/node5', cat('1:2', Buffer.alloc(1), 'x', Buffer.alloc(1)));
  req('rrddump fresh', 10);
  emit({ name: 'fuse .rrd', text: fs.readFileSync('/etc/pve/.rrd', 'latin1') });
  sleep(2100);
  req('rrddump fresh2', 10);
  emit({ name: 'fuse .rrd 2', text: fs.readFileSync('/etc/pve/.rrd', 'latin1') });
  emit({ name: 'rrd files', text: execSync('find /var/lib/rrdcached/db -printf "%p %m %s\\n" | sort').toString() });
}
if (phase === 'bigcfg') {
  for (const size of [Number(process.argv[3] ?? 65536)]) {
    fs.writeFileSync('/etc/pve/big-' + size + '.cfg', Buffer.alloc(size, 0x61));
    req('getconfig size ' + size, 6, cs('big-' + size + '.cfg'));
    fs.unlinkSync('/etc/pve/big-' + size + '.cfg');
  }
  req('after big: fsversion works', 3);
  // requests as large as the client allows
  req('getconfig 1M path', 6, Buffer.alloc(1048576 - 16 - 100, 0x61));
  setStatus('set big name', 'kv/' + 'x'.repeat(300), 'v');
  req('verify token big', 12, Buffer.alloc(100000, 0x61));
}
if (phase === 'guest' || phase === 'all') {
  for (const [n, v, p] of <[string, number, Buffer][]>[['name', 100, cs('name')], ['memory', 100, cs('memory')], ['missing prop', 100, cs('nosuch')], ['vmid 0 name', 0, cs('name')],
    ['vmid 99', 99, cs('name')], ['vmid 1', 1, cs('name')], ['vmid 999 unknown', 999, cs('name')], ['empty prop', 100, cs('')], ['no payload', 100, Buffer.alloc(0)],
    ['no nul', 100, Buffer.from('name')], ['uppercase', 100, cs('Name')], ['digit first', 100, cs('0abc')], ['lxc hostname', 200, cs('hostname')],
    ['lock', 0, cs('lock')], ['tags', 0, cs('tags')], ['vmid 4294967295', 4294967295, cs('name')], ['embedded', 100, cat('name', Buffer.alloc(1), 'x', Buffer.alloc(1))],
    ['digest', 0, cs('digest')], ['parent', 0, cs('parent')], ['colon', 100, cs('name:')], ['cfgtest pending', 0, cs('cores')], ['cfgtest snap', 0, cs('snaptime')],
    ['cfgtest description', 0, cs('description')], ['cfgtest onboot', 0, cs('onboot')], ['cfgtest net0', 0, cs('net0')], ['cfgtest sockets', 0, cs('sockets')]])
    prop('prop ' + n, v, p);
  req('prop short', 11, Buffer.from([100, 0]));
  for (const [n, v, k, p] of <[string, number, number, Buffer][]>[['name+memory', 100, 2, cat(cs('name'), cs('memory'))], ['1 name', 100, 1, cs('name')], ['0 count', 100, 0, cs('name')],
    ['count>given', 100, 3, cat(cs('name'), cs('memory'))], ['count<given', 100, 1, cat(cs('name'), cs('memory'))], ['empty prop', 100, 1, cs('')],
    ['uppercase', 100, 1, cs('Name')], ['no nul', 100, 1, Buffer.from('name')], ['vmid 0 two', 0, 2, cat(cs('name'), cs('lock'))], ['vmid 99', 99, 1, cs('name')],
    ['vmid 999', 999, 1, cs('name')], ['dup prop', 100, 2, cat(cs('name'), cs('name'))], ['trailing nul', 100, 1, cat(cs('name'), Buffer.alloc(1))],
    ['cfg all', 0, 6, cat(cs('cores'), cs('snaptime'), cs('description'), cs('onboot'), cs('net0'), cs('sockets'))], ['255 props', 100, 255, cs('name')],
    ['underscore', 100, 1, cs('_x')], ['z', 100, 1, cs('z')]])
    props('props ' + n, v, k, p);
  req('props short', 13, cat(u32(100)));
  req('props header only', 13, cat(u32(100), Buffer.from([1])));
}
if (phase === 'token' || phase === 'all') {
  const tok = fs.existsSync('/etc/pve/priv/token.cfg') ? fs.readFileSync('/etc/pve/priv/token.cfg', 'latin1').split('\n') : [];
  emit({ name: 'token.cfg lines', text: tok });
  for (const [n, t] of <[string, string][]>[['line0', tok[0] ?? ''], ['line1', tok[1] ?? ''], ['prefix', (tok[0] ?? '').slice(0, 5)], ['plus space', (tok[0] ?? '') + ' '], ['empty', ''],
    ['newline', 'a\nb'], ['garbage', 'nosuch@pam!x 1234']]) req('token ' + n, 12, cs(t));
  req('token nonul', 12, Buffer.from(tok[0] ?? 'x'));
  req('token empty payload', 12);
  req('token embedded nul', 12, cat(tok[0] ?? 'x', Buffer.alloc(1), 'x', Buffer.alloc(1)));
}
if (phase === 'header' || phase === 'all') {
  const h = (id: number, size: number, extra?: number): Buffer => { const b = Buffer.alloc(16 + (extra ?? 0)); b.writeInt32LE(id, 0); b.writeInt32LE(size, 8); return b; };
  raw('hdr size 16 id1 extra 8 bytes', h(1, 16, 8));
  raw('hdr size 24 id1 extra 8', h(1, 24, 8));
}
c.close();
