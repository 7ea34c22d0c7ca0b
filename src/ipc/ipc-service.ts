/**
 * The daemon's `pve2` service: the libqb server wired to the backend's tree and status services.
 * The service name can be changed with PMXCFS_IPC_SERVICE (tests run several daemons on one host;
 * abstract socket names are per network namespace and only one process may own one).
 */
import { readFileSync } from 'node:fs';
import type { Clock, FsBackend } from '../daemon/backend';
import { SERVICE_NAME } from './protocol';
import { QbIpcServer, type IpcLog } from './qb-server';
import { handleIpcRequest, type IpcServices } from './request-handler';
import { ipcStatusStoreFor } from './status-store';

export const IPC_SERVICE_ENV = 'PMXCFS_IPC_SERVICE';

export interface IpcServiceOptions {
  backend: FsBackend;
  nodename: string;
  clock: Clock;
  /** www-data: read-only clients. */
  wwwDataGid: number;
  log: IpcLog;
  /** Default: $PMXCFS_IPC_SERVICE or `pve2`. */
  name?: string;
}

export interface IpcService {
  readonly name: string;
  stop(): void;
}

export function ipcServiceName(env: NodeJS.ProcessEnv = process.env): string {
  const name = env[IPC_SERVICE_ENV];
  return name !== undefined && name !== '' ? name : SERVICE_NAME;
}

/**
 * True when a process of this network namespace already listens on libqb's abstract socket for
 * `name` (/proc/net/unix shows it as "@name" padded with "@" for the NULs of the full sun_path).
 */
export function abstractSocketInUse(name: string, table: string = readUnixSocketTable()): boolean {
  return table.split('\n').some((line) => {
    const path = line.trim().split(/\s+/)[7];
    return path !== undefined && path.startsWith(`@${name}`) && /^@*$/.test(path.slice(name.length + 1));
  });
}

function readUnixSocketTable(): string {
  try {
    return readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Starts serving; throws when the backend is unknown, the name is already served in this network
 * namespace (checked first: libqb's own failure path for a taken name is fragile), or libqb cannot
 * publish the name.
 */
export function startIpcService(o: IpcServiceOptions): IpcService {
  const name = o.name ?? ipcServiceName();
  if (abstractSocketInUse(name)) throw new Error(`${name} is already served by another process in this network namespace`);
  const store = ipcStatusStoreFor(o.backend, o.nodename, o.clock);
  if (store === undefined) throw new Error('backend without status services');
  const services: IpcServices = { memdb: o.backend.memdb, status: o.backend.status, store };
  const server = QbIpcServer.start({
    name,
    wwwDataGid: o.wwwDataGid,
    handle: (client, request) => handleIpcRequest(services, client, request),
    log: o.log,
  });
  return { name: server.name, stop: () => server.stop() };
}
