/**
 * One IPC request in, one response out (spec §10), with the reference's validation order and
 * errnos. Requests are answered synchronously from the tree and the status services, so the libqb
 * glue can reply inside msg_process. Pure apart from the clock the status store reads.
 */
import { Errno } from '../memdb/errno';
import type { MemDb } from '../memdb/memdb';
import { decodeNameBytes } from '../memdb/name-bytes';
import { guestDirName, isPrivatePath } from '../memdb/paths';
import { DT_REG, type Entry } from '../memdb/types';
import type { StatusSource } from '../daemon/backend';
import { rrdDumpIpcPayload } from '../status/rrd';
import { guestPropertiesReply, type GuestConfigSource } from './guest-properties';
import {
  cStringAt,
  cStringText,
  encodeResponse,
  GET_LOG_HEADER_SIZE,
  GET_STATUS_HEADER_SIZE,
  IpcOp,
  LOG_MSG_DATA_OFFSET,
  PROPERTIES_OFFSET,
  PROPERTY_OFFSET,
  REQUEST_HEADER_SIZE,
  SET_STATUS_HEADER_SIZE,
  STATUS_NAME_SIZE,
} from './protocol';
import type { IpcStatusStore } from './status-store';
import { tokenOfRequest, verifyToken } from './token';

/** The connection's credentials as decided at accept time. */
export interface IpcClient {
  /** gid www-data: no SET_STATUS, no LOG_CLUSTER_MSG, no private files. */
  readOnly: boolean;
  /** The client's pid (stamped on its cluster-log entries). */
  pid: number;
}

export interface IpcServices {
  memdb: MemDb;
  /** `.version`, `.members`, `.vmlist` renderers. */
  status: Pick<StatusSource, 'version' | 'members' | 'vmlist'>;
  store: IpcStatusStore;
}

/** 0 with data, or a negative errno. */
type Outcome = { error: 0; data: Buffer } | { error: number; data?: undefined };

const ok = (data: Buffer | string): Outcome => ({ error: 0, data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
const fail = (errno: number): Outcome => ({ error: -errno });

/** The full response (header + data) to one request message of `msg.length` bytes. */
export function handleIpcRequest(services: IpcServices, client: IpcClient, msg: Buffer): Buffer {
  const id = msg.length >= 4 ? msg.readInt32LE(0) : 0;
  const outcome = msg.length < REQUEST_HEADER_SIZE ? fail(Errno.EINVAL) : dispatch(services, client, id, msg);
  return encodeResponse(id, outcome.error, outcome.data);
}

function dispatch(s: IpcServices, client: IpcClient, id: number, msg: Buffer): Outcome {
  const size = msg.length;
  switch (id) {
    case IpcOp.GET_FS_VERSION:
      return size !== REQUEST_HEADER_SIZE ? fail(Errno.EINVAL) : ok(s.status.version());
    case IpcOp.GET_CLUSTER_INFO:
      return size !== REQUEST_HEADER_SIZE ? fail(Errno.EINVAL) : ok(s.status.members());
    case IpcOp.GET_GUEST_LIST:
      return size !== REQUEST_HEADER_SIZE ? fail(Errno.EINVAL) : ok(s.status.vmlist());
    case IpcOp.SET_STATUS:
      return setStatus(s, client, msg);
    case IpcOp.GET_STATUS:
      return getStatus(s, msg);
    case IpcOp.GET_CONFIG:
      return getConfig(s, client, msg);
    case IpcOp.LOG_CLUSTER_MSG:
      return logClusterMsg(s, client, msg);
    case IpcOp.GET_CLUSTER_LOG:
      return getClusterLog(s, msg);
    case IpcOp.GET_RRD_DUMP:
      return size !== REQUEST_HEADER_SIZE ? fail(Errno.EINVAL) : ok(rrdDumpIpcPayload(s.store.rrdDump()));
    case IpcOp.GET_GUEST_CONFIG_PROPERTY:
      return guestConfigProperty(s, msg);
    case IpcOp.GET_GUEST_CONFIG_PROPERTIES:
      return guestConfigProperties(s, msg);
    case IpcOp.VERIFY_TOKEN:
      return verifyTokenRequest(s, msg);
    default:
      return fail(Errno.ECHRNG);
  }
}

function result(value: Buffer | number): Outcome {
  return typeof value === 'number' ? fail(-value) : ok(value);
}

function setStatus(s: IpcServices, client: IpcClient, msg: Buffer): Outcome {
  if (client.readOnly) return fail(Errno.EPERM);
  if (msg.length < SET_STATUS_HEADER_SIZE) return fail(Errno.EINVAL);
  const name = cStringText(msg, REQUEST_HEADER_SIZE, SET_STATUS_HEADER_SIZE - 1);
  const res = s.store.setStatus(name, Buffer.from(msg.subarray(SET_STATUS_HEADER_SIZE)));
  return res < 0 ? fail(-res) : ok(Buffer.alloc(0));
}

function getStatus(s: IpcServices, msg: Buffer): Outcome {
  if (msg.length < GET_STATUS_HEADER_SIZE) return fail(Errno.EINVAL);
  const name = cStringText(msg, REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + STATUS_NAME_SIZE - 1);
  const node = cStringText(msg, REQUEST_HEADER_SIZE + STATUS_NAME_SIZE, GET_STATUS_HEADER_SIZE - 1);
  return result(s.store.getStatus(name, node));
}

function getConfig(s: IpcServices, client: IpcClient, msg: Buffer): Outcome {
  if (msg.length - REQUEST_HEADER_SIZE <= 0) return fail(Errno.EINVAL);
  // The reference overwrites the last byte with NUL: the path ends there at the latest.
  const path = decodeNameBytes(cStringAt(msg, REQUEST_HEADER_SIZE, msg.length - 1)); // tree names are bytes
  if (client.readOnly && isPrivatePath(path)) return fail(Errno.EPERM);
  const entry = s.memdb.lookup(path);
  if (entry === undefined || entry.type !== DT_REG) return fail(Errno.ENOENT);
  return ok(entry.data === null ? Buffer.alloc(0) : Buffer.from(entry.data));
}

/**
 * `priority u8, ident_len u8, tag_len u8, ident\0 tag\0 msg\0`: ident and tag must end with NUL
 * where their lengths say; the message is the rest up to its NUL (or the end of the request: the
 * reference checks the byte after the request, which is zero in its ring buffer).
 */
function logClusterMsg(s: IpcServices, client: IpcClient, msg: Buffer): Outcome {
  if (client.readOnly) return fail(Errno.EPERM);
  if (msg.length < LOG_MSG_DATA_OFFSET) return fail(Errno.EINVAL);
  const priority = msg[REQUEST_HEADER_SIZE]!;
  const identLen = msg[REQUEST_HEADER_SIZE + 1]!;
  const tagLen = msg[REQUEST_HEADER_SIZE + 2]!;
  const msgLen = msg.length - LOG_MSG_DATA_OFFSET - identLen - tagLen;
  if (msgLen < 1) return fail(Errno.EINVAL);
  const identEnd = LOG_MSG_DATA_OFFSET + identLen - 1;
  const tagEnd = LOG_MSG_DATA_OFFSET + identLen + tagLen - 1;
  if (msg[identEnd] !== 0 || msg[tagEnd] !== 0) return fail(Errno.EINVAL);
  const ident = cStringText(msg, LOG_MSG_DATA_OFFSET, msg.length);
  const tag = cStringText(msg, LOG_MSG_DATA_OFFSET + identLen, msg.length);
  const text = cStringAt(msg, tagEnd + 1, msg.length);
  s.store.logCluster({ ident, tag, pid: client.pid, priority, msg: Buffer.from(text) });
  return ok(Buffer.alloc(0));
}

function getClusterLog(s: IpcServices, msg: Buffer): Outcome {
  if (msg.length - GET_LOG_HEADER_SIZE <= 0) return fail(Errno.EINVAL);
  const maxEntries = msg.readUInt32LE(REQUEST_HEADER_SIZE);
  const user = cStringText(msg, GET_LOG_HEADER_SIZE, msg.length - 1);
  return ok(s.store.clusterLog(maxEntries === 0 ? 50 : maxEntries, user));
}

/** vmid 1..99 -> EINVAL; an unregistered vmid >= 100 -> ENOENT (checked before the payload). */
function checkVmid(s: IpcServices, vmid: number): number {
  if (vmid < 100 && vmid !== 0) return -Errno.EINVAL;
  if (vmid >= 100 && !s.memdb.vmlist().guests.has(vmid)) return -Errno.ENOENT;
  return 0;
}

function guestConfigProperty(s: IpcServices, msg: Buffer): Outcome {
  if (msg.length < PROPERTY_OFFSET) return fail(Errno.EINVAL);
  const vmid = msg.readUInt32LE(REQUEST_HEADER_SIZE);
  const bad = checkVmid(s, vmid);
  if (bad < 0) return fail(-bad);
  if (msg.length - PROPERTY_OFFSET <= 0) return fail(Errno.EINVAL);
  const prop = cStringAt(msg, PROPERTY_OFFSET, msg.length - 1);
  // No first-letter check here (the reference has none for the one-property request).
  return result(guestPropertiesReply(guestSource(s.memdb), vmid, [Buffer.from(prop)]));
}

function guestConfigProperties(s: IpcServices, msg: Buffer): Outcome {
  // The reference checks the vmid before it reads num_props: an unknown guest is ENOENT even when
  // the request ends right after its vmid.
  if (msg.length < PROPERTY_OFFSET) return fail(Errno.EINVAL);
  const vmid = msg.readUInt32LE(REQUEST_HEADER_SIZE);
  const bad = checkVmid(s, vmid);
  if (bad < 0) return fail(-bad);
  if (msg.length < PROPERTIES_OFFSET) return fail(Errno.EINVAL);
  const count = msg[REQUEST_HEADER_SIZE + 4]!;
  if (count === 0) return fail(Errno.EINVAL);
  let remaining = msg.length - PROPERTIES_OFFSET;
  if (remaining <= 1) return fail(Errno.EINVAL);
  const props: Buffer[] = [];
  let pos = PROPERTIES_OFFSET;
  for (let i = 0; i < count; i++) {
    const nul = msg.indexOf(0, pos);
    const len = nul < 0 ? remaining : nul - pos;
    if (len === 0) return fail(Errno.EINVAL);
    if (len >= remaining) return fail(Errno.EINVAL); // not NUL-terminated
    const first = msg[pos]!;
    if (first < 0x61 || first > 0x7a) return fail(Errno.EINVAL);
    props.push(Buffer.from(msg.subarray(pos, pos + len)));
    remaining -= len + 1;
    pos += len + 1;
  }
  if (remaining !== 0) return fail(Errno.EINVAL);
  return result(guestPropertiesReply(guestSource(s.memdb), vmid, props));
}

function verifyTokenRequest(s: IpcServices, msg: Buffer): Outcome {
  const token = tokenOfRequest(msg);
  if (typeof token === 'number') return fail(-token);
  const cfg = s.memdb.lookup('priv/token.cfg');
  const data = cfg !== undefined && cfg.type === DT_REG && cfg.data !== null && cfg.data.length > 0 ? cfg.data : undefined;
  const res = verifyToken(data, token);
  return res < 0 ? fail(-res) : ok(Buffer.alloc(0));
}

/** Guest configs straight from the tree (no copies: the scan only reads). */
export function guestSource(memdb: MemDb): GuestConfigSource {
  const list = memdb.vmlist();
  // One request may read 10,000 configs: resolve each node's guest directory once.
  const dirs = new Map<string, Entry | undefined>();
  return {
    guestIds: () => [...list.guests.keys()].sort((a, b) => a - b),
    isGuest: (vmid) => list.guests.has(vmid),
    guestConfig: (vmid) => {
      const g = list.guests.get(vmid);
      if (g === undefined) return undefined;
      const dirPath = `nodes/${g.node}/${guestDirName(g.type)}`;
      let dir = dirs.get(dirPath);
      if (!dirs.has(dirPath)) dirs.set(dirPath, (dir = memdb.lookup(dirPath)));
      const e = dir?.children?.get(`${vmid}.conf`);
      return e === undefined || e.type !== DT_REG || e.data === null || e.data.length === 0 ? undefined : e.data;
    },
  };
}
