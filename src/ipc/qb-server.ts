/**
 * The `pve2` IPC server (spec §10) on libqb's own server side, as the reference builds it:
 * qb_ipcs_create(name, 1, QB_IPC_SHM, handlers), libqb's loop hooks on Node's event loop (see
 * qb-poll-bridge), and five connection callbacks:
 * - accept: uid 0 + gid 0 -> read-write; gid www-data -> read-only; anyone else -EACCES;
 * - msg_process: the request (copied out of libqb's ring buffer) goes to the request handler, the
 *   response is sent at once with qb_ipcs_response_send;
 * - created / closed / destroyed: bookkeeping of the per-connection credentials.
 * Everything runs on the main thread; requests are answered in order, one at a time.
 */
import koffi from 'koffi';
import { qbPollBridge } from './qb-poll-bridge';
import {
  AcceptFn,
  ClosedFn,
  ConnectionFn,
  libqb,
  MsgProcessFn,
  QB_IPC_SHM,
  type Libqb,
} from './libqb';
import { encodeResponse, REQUEST_HEADER_SIZE, SERVICE_NAME } from './protocol';
import type { IpcClient } from './request-handler';

const EACCES = 13;
const EINVAL = 22;
const EIO = 5;

export type IpcLogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'err' | 'crit';
export type IpcLog = (level: IpcLogLevel, message: string) => void;

export interface QbIpcServerOptions {
  /** Abstract socket name (default `pve2`); tests use their own. */
  name?: string;
  /** The www-data group: its members connect read-only. */
  wwwDataGid: number;
  /** Answers one request (full message, header included) with a full response. */
  handle(client: IpcClient, request: Buffer): Buffer;
  log?: IpcLog;
}

/** Service handlers shared by every server in the process, routed by the service context. */
interface ServiceCallbacks {
  accept(c: unknown, uid: number, gid: number): number;
  msgProcess(c: unknown, data: unknown, size: number | bigint): number;
  destroyed(c: unknown): void;
}

const servers = new Map<bigint, ServiceCallbacks>();
let serviceHandlers: Record<string, unknown> | undefined;

function serverOf(api: Libqb, c: unknown): ServiceCallbacks | undefined {
  const ctx = api.ipcsConnectionServiceContextGet(c);
  return ctx === null ? undefined : servers.get(koffi.address(ctx));
}

/** The registered C callbacks (once per process; never unregistered, see qb-poll-bridge). */
function sharedServiceHandlers(api: Libqb): Record<string, unknown> {
  serviceHandlers ??= {
    connection_accept: koffi.register(
      (c: unknown, uid: number, gid: number) => serverOf(api, c)?.accept(c, uid, gid) ?? -EACCES,
      koffi.pointer(AcceptFn),
    ),
    connection_created: koffi.register(() => {}, koffi.pointer(ConnectionFn)),
    msg_process: koffi.register((c: unknown, data: unknown, size: number | bigint) => {
      const server = serverOf(api, c);
      if (server === undefined) {
        api.ipcsDisconnect(c);
        return 0;
      }
      return server.msgProcess(c, data, size);
    }, koffi.pointer(MsgProcessFn)),
    connection_closed: koffi.register(() => 0, koffi.pointer(ClosedFn)),
    connection_destroyed: koffi.register((c: unknown) => serverOf(api, c)?.destroyed(c), koffi.pointer(ConnectionFn)),
  };
  return serviceHandlers;
}

export class QbIpcServer implements ServiceCallbacks {
  readonly name: string;
  private readonly api: Libqb;
  private service: unknown = null;
  private contextPtr: unknown = null;
  private contextKey = 0n;
  private readonly clients = new Map<bigint, IpcClient>();
  private readonly log: IpcLog;

  private constructor(private readonly o: QbIpcServerOptions) {
    this.name = o.name ?? SERVICE_NAME;
    this.api = libqb();
    this.log = o.log ?? (() => {});
  }

  /** Creates and publishes the service; throws when libqb refuses (e.g. the name is taken). */
  static start(o: QbIpcServerOptions): QbIpcServer {
    const server = new QbIpcServer(o);
    server.open();
    return server;
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  private open(): void {
    const api = this.api;
    const bridge = qbPollBridge();
    bridge.setLog((m) => this.log('err', m));
    const service = api.ipcsCreate(this.name, 1, QB_IPC_SHM, sharedServiceHandlers(api));
    if (service === null) throw new Error(`qb_ipcs_create(${this.name}) failed (errno ${koffi.errno()})`);
    this.service = service;
    this.contextPtr = koffi.alloc('int32_t', 1);
    this.contextKey = koffi.address(this.contextPtr);
    servers.set(this.contextKey, this);
    api.ipcsServiceContextSet(service, this.contextPtr);
    api.ipcsPollHandlersSet(service, bridge.handlers);
    const res = api.ipcsRun(service);
    if (res < 0) {
      // A failed qb_ipcs_run already dropped libqb's own reference and freed the service; destroying
      // it again aborts the process (ref_count assertion), so only the JS side is released.
      this.service = null;
      this.release();
      throw new Error(`qb_ipcs_run(${this.name}) failed: errno ${-res}`);
    }
  }

  /** Disconnects every client and withdraws the service. */
  stop(): void {
    this.close();
  }

  private close(): void {
    if (this.service === null) return;
    const service = this.service;
    this.service = null;
    // destroy disconnects the clients (closed/destroyed run now) and removes the listening fd.
    this.api.ipcsDestroy(service);
    this.release();
  }

  /** Forgets this server's context, clients and (for the last server) the poll bridge. */
  private release(): void {
    servers.delete(this.contextKey);
    koffi.free(this.contextPtr);
    this.contextPtr = null;
    this.clients.clear();
    if (servers.size === 0) qbPollBridge().reset();
  }

  accept(c: unknown, uid: number, gid: number): number {
    let readOnly: boolean;
    if (uid === 0 && gid === 0) readOnly = false;
    else if (gid === this.o.wwwDataGid) readOnly = true;
    else {
      this.log('crit', `connection from bad user ${uid} (gid ${gid})! - rejected`);
      return -EACCES;
    }
    const stats: { client_pid?: number } = {};
    const pid = this.api.ipcsConnectionStatsGet(c, stats, 0) === 0 ? (stats.client_pid ?? 0) : 0;
    this.clients.set(koffi.address(c), { readOnly, pid });
    this.log('debug', `authenticated connection ${uid}/${gid} pid ${pid}${readOnly ? ' (read-only)' : ''}`);
    return 0;
  }

  destroyed(c: unknown): void {
    this.clients.delete(koffi.address(c));
  }

  msgProcess(c: unknown, data: unknown, size: number | bigint): number {
    const client = this.clients.get(koffi.address(c));
    if (client === undefined) {
      this.api.ipcsDisconnect(c);
      return 0;
    }
    const response = this.respond(c, client, data, size);
    const sent = this.api.ipcsResponseSend(c, response, response.length);
    if (Number(sent) < 0) {
      this.log('crit', `qb_ipcs_response_send: errno ${-Number(sent)}`);
      this.api.ipcsDisconnect(c);
    }
    return 0;
  }

  /**
   * libqb passes the size the client wrote in the header, not what it received: a size outside
   * header..buffer size is answered EINVAL without reading past the header.
   */
  private respond(c: unknown, client: IpcClient, data: unknown, size: number | bigint): Buffer {
    const header = Buffer.from(new Uint8Array(koffi.view(data, REQUEST_HEADER_SIZE)));
    const id = header.readInt32LE(0);
    const claimed = header.readInt32LE(8);
    const limit = this.api.ipcsConnectionGetBufferSize(c);
    if (claimed < REQUEST_HEADER_SIZE || (limit > 0 && claimed > limit) || BigInt(size) !== BigInt(claimed)) {
      return encodeResponse(id, -EINVAL);
    }
    const request = Buffer.from(new Uint8Array(koffi.view(data, claimed)));
    try {
      return this.o.handle(client, request);
    } catch (e) {
      // A bug in a handler must not take the daemon down: log it and answer EIO.
      this.log('err', `IPC request ${id} failed: ${(e as Error).stack ?? String(e)}`);
      return encodeResponse(id, -EIO);
    }
  }
}
