/**
 * The operator control socket's protocol (pmxcfs-ts only; the reference has none): one JSON
 * request per line from the client, one JSON answer line from the daemon, then the daemon closes.
 * This module is pure: paths, request parsing and the shapes of the answers.
 *
 *   -> {"cmd":"ping"}                       <- {"ok":true,"pid":1234}
 *   -> {"cmd":"status","logLines":10}       <- {"ok":true,"status":{...NodeStatus}}
 *   -> anything else                        <- {"ok":false,"error":"..."}
 */
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_DB } from './options';
import type { DfsmSnapshot } from './backend';
import type { SpansSummary } from '../trace/write-spans';

export const DEFAULT_CONTROL_SOCKET = '/run/pve-cluster/pmxcfs-ts.sock';
export const CONTROL_SOCKET_NAME = 'pmxcfs-ts.sock';
/** A request line longer than this is refused (a status request is a few dozen bytes). */
export const MAX_REQUEST_BYTES = 4096;
export const DEFAULT_LOG_LINES = 10;
export const MAX_LOG_LINES = 50;

/** /run/pve-cluster/pmxcfs-ts.sock for the default database, else beside the database file. */
export function controlSocketPath(db: string): string {
  const abs = resolve(db);
  return abs === DEFAULT_DB ? DEFAULT_CONTROL_SOCKET : join(dirname(abs), CONTROL_SOCKET_NAME);
}

export type ControlRequest = { cmd: 'ping' } | { cmd: 'status'; logLines: number };

export type ParsedRequest = { ok: true; request: ControlRequest } | { ok: false; error: string };

/** Parses one request line (without its newline). Never throws. */
export function parseControlRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: 'malformed request: not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'malformed request: expected a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  if (obj.cmd === 'ping') return { ok: true, request: { cmd: 'ping' } };
  if (obj.cmd === 'status') {
    let logLines = DEFAULT_LOG_LINES;
    if (obj.logLines !== undefined) {
      const n = obj.logLines;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_LOG_LINES) {
        return { ok: false, error: `malformed request: logLines must be an integer 0..${MAX_LOG_LINES}` };
      }
      logLines = n;
    }
    return { ok: true, request: { cmd: 'status', logLines } };
  }
  return { ok: false, error: `unknown command ${JSON.stringify(obj.cmd ?? null)}` };
}

/** One DFSM group as the status command reports it: the backend's snapshot, unchanged. */
export type DfsmStatus = DfsmSnapshot;

export interface LockStatus {
  /** Lock name: the directory under priv/lock/. */
  name: string;
  /** corosync nodeid that created/renewed it (0 in local mode). */
  writer: number;
  /** The lock directory's mtime (epoch seconds). */
  mtime: number;
  /** Seconds this node has seen the lock unchanged (lock table; what expiry is decided on). */
  age: number;
  /** Seconds until it may be released as expired (0: expired, may be removed by the next unlock request). */
  expiresIn: number;
}

export interface ClusterLogLine {
  time: number;
  node: string;
  pri: number;
  tag: string;
  user: string;
  msg: string;
}

/** What the daemon reports about itself. */
export interface NodeStatus {
  nodename: string;
  pid: number;
  mode: 'local' | 'cluster';
  mount: string;
  db: string;
  /** Epoch seconds of the daemon's start and of this answer (daemon clock). */
  starttime: number;
  now: number;
  quorate: boolean;
  nodeid: number;
  /** memdb root version (the database version). */
  version: number;
  /** memdb error flag: set after a failed commit; every change then fails with EIO. */
  memdbErrors: boolean;
  debug: boolean;
  cluster?: { name: string; configVersion: number; clinfoVersion: number };
  members: { name: string; nodeid: number; online: boolean; ip?: string }[];
  dfsm?: { dcdb: DfsmStatus; kvstore: DfsmStatus };
  guests: number;
  locks: LockStatus[];
  clusterLog: ClusterLogLine[];
  /** Latency spans of the last replicated writes (issue 10). */
  writeSpans?: SpansSummary;
}

export type ControlResponse =
  | { ok: true; pid: number }
  | { ok: true; status: NodeStatus }
  | { ok: false; error: string };

export function encodeResponse(r: ControlResponse): string {
  return `${JSON.stringify(r)}\n`;
}
