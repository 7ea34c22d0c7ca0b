// RRD checks on the lab's nodes without sqlite or rrdtool in the image: pve2 IPC requests made by a
// short Node program inside a node (it uses the image's own dist/ client, so the bytes are those
// PVE::IPCC sends), and an RRD file read back (base64 through `docker exec`) and decoded from its
// header: magic, step, data sources, archives, last update time and the last value of each source.
import { execIn, shIn } from './lab-fixture';

export const RRD_DIR = '/var/lib/rrdcached/db';

export type IpcRequest =
  /** SET_STATUS; the value gets a terminating NUL unless `nul` is false (an empty value deletes). */
  | { op: 'set'; key: string; value: string; nul?: boolean }
  /** GET_STATUS of `key` in the table of `node`. */
  | { op: 'get'; key: string; node: string };

export interface IpcAnswer {
  /** 0 or a negative errno, as the response header carries it. */
  error: number;
  data?: string;
}

// Plain JavaScript run by `node -e` in the container; the requests come as JSON on stdin.
const IPC_PROGRAM = String.raw`
const { QbIpcClient } = require('/opt/pmxcfs-ts/dist/src/ipc/qb-client.js');
const p = require('/opt/pmxcfs-ts/dist/src/ipc/protocol.js');
const reqs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const client = QbIpcClient.connect(p.SERVICE_NAME);
const out = [];
try {
  for (const r of reqs) {
    if (r.op === 'set') {
      const text = Buffer.from(r.value, 'utf8');
      const value = r.nul === false ? text : Buffer.concat([text, Buffer.alloc(1)]);
      const res = client.request(p.IpcOp.SET_STATUS, Buffer.concat([p.fixedCString(r.key, p.STATUS_NAME_SIZE), value]));
      out.push({ error: res.error });
    } else if (r.op === 'get') {
      const res = client.request(p.IpcOp.GET_STATUS, Buffer.concat([p.fixedCString(r.key, p.STATUS_NAME_SIZE), p.fixedCString(r.node, p.STATUS_NAME_SIZE)]));
      out.push(res.error === 0 ? { error: 0, data: res.data.toString('utf8') } : { error: res.error });
    } else {
      throw new Error('unknown request ' + r.op);
    }
  }
} finally {
  client.close();
}
process.stdout.write(JSON.stringify(out));
`;

/** Send the requests over one pve2 connection inside `node`, in order; one answer per request. */
export async function ipcIn(node: string, requests: readonly IpcRequest[]): Promise<IpcAnswer[]> {
  const r = await execIn(node, ['node', '-e', IPC_PROGRAM], { input: JSON.stringify(requests), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`pve2 IPC on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as IpcAnswer[];
}

/** The bytes of a file under the RRD directory of `node`, or null when it does not exist. */
export async function readRrdBytes(node: string, file: string): Promise<Buffer | null> {
  const path = `${RRD_DIR}/${file}`;
  const r = await shIn(node, `if [ -f '${path}' ]; then base64 -w0 '${path}'; else printf absent; fi`, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`reading ${path} on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  return r.stdout === 'absent' ? null : Buffer.from(r.stdout, 'base64');
}

export interface RrdHeader {
  version: string;
  step: number;
  sources: { name: string; type: string; heartbeat: number }[];
  archives: { cf: string; rows: number; pdpPerRow: number }[];
  /** live_head.last_up, seconds. */
  lastUpdate: number;
  /** pdp_prep.last_ds of each source: the value of the last update as it was written ("U" unknown). */
  lastValues: string[];
}

export class RrdDecodeError extends Error {}

// rrd_format.h on x86_64 (librrd 1.7 writes version 0003; 0004 keeps this header): stat_head 128 B,
// ds_def 120 B, rra_def 120 B, live_head 16 B, pdp_prep 112 B (last_ds char[30] first).
const STAT_HEAD = 128;
const DS_DEF = 120;
const RRA_DEF = 120;
const LIVE_HEAD = 16;
const PDP_PREP = 112;
const FLOAT_COOKIE = 8.642135e130;
const MAX_COUNT = 1000; // far beyond any PVE file: a guard against reading garbage counts

function cText(buf: Buffer, start: number, size: number): string {
  const field = buf.subarray(start, start + size);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('latin1');
}

function count(buf: Buffer, at: number, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(MAX_COUNT)) throw new RrdDecodeError(`${what} ${v} is implausible`);
  return Number(v);
}

/** Decode the header of an RRD file; throws RrdDecodeError for anything short or foreign. */
export function parseRrdHeader(buf: Buffer): RrdHeader {
  if (buf.length < STAT_HEAD) throw new RrdDecodeError(`${buf.length} bytes: shorter than the RRD header`);
  if (!buf.subarray(0, 4).equals(Buffer.from('RRD\0', 'latin1'))) throw new RrdDecodeError(`no RRD magic: ${buf.subarray(0, 4).toString('hex')}`);
  const version = cText(buf, 4, 5);
  if (version !== '0003' && version !== '0004') throw new RrdDecodeError(`unsupported RRD version '${version}'`);
  if (buf.readDoubleLE(16) !== FLOAT_COOKIE) throw new RrdDecodeError('float cookie mismatch (not an x86_64 file)');
  const dsCount = count(buf, 24, 'ds_cnt');
  const rraCount = count(buf, 32, 'rra_cnt');
  const step = Number(buf.readBigUInt64LE(40));
  const live = STAT_HEAD + dsCount * DS_DEF + rraCount * RRA_DEF;
  const end = live + LIVE_HEAD + dsCount * PDP_PREP;
  if (buf.length < end) throw new RrdDecodeError(`${buf.length} bytes: shorter than the header of ${dsCount} sources and ${rraCount} archives (${end})`);

  const sources = Array.from({ length: dsCount }, (_, i) => {
    const at = STAT_HEAD + i * DS_DEF;
    return { name: cText(buf, at, 20), type: cText(buf, at + 20, 20), heartbeat: Number(buf.readBigUInt64LE(at + 40)) };
  });
  const archives = Array.from({ length: rraCount }, (_, i) => {
    const at = STAT_HEAD + dsCount * DS_DEF + i * RRA_DEF;
    return { cf: cText(buf, at, 20), rows: Number(buf.readBigUInt64LE(at + 24)), pdpPerRow: Number(buf.readBigUInt64LE(at + 32)) };
  });
  const lastUpdate = Number(buf.readBigInt64LE(live));
  const lastValues = Array.from({ length: dsCount }, (_, i) => cText(buf, live + LIVE_HEAD + i * PDP_PREP, 30));
  return { version, step, sources, archives, lastUpdate, lastValues };
}

/** The decoded file on `node`: null when absent, or the decode error's text (a file being created). */
export async function rrdFileOn(node: string, file: string): Promise<RrdHeader | null | string> {
  const bytes = await readRrdBytes(node, file);
  if (bytes === null) return null;
  try {
    return parseRrdHeader(bytes);
  } catch (e) {
    if (e instanceof RrdDecodeError) return `undecodable: ${e.message}`;
    throw e;
  }
}

/** `/etc/pve/.rrd` of a node as key -> data (one `<key>:<data>` line per cached sample). */
export async function rrdDumpOn(node: string): Promise<Map<string, string>> {
  const r = await shIn(node, 'timeout 10 cat /etc/pve/.rrd', { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`reading /etc/pve/.rrd on ${node} failed (status ${r.code}): ${r.stderr.trim()}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    // Keys have no ':' (node, vmid and storage ids do not), the data does.
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}
