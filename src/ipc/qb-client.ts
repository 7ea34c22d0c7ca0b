/**
 * A libqb client of the `pve2` service, as PVE::IPCC is one: qb_ipcc_connect(name, 1 MiB) and one
 * synchronous qb_ipcc_sendv_recv per request. Used by tests, benchmarks and tools; it blocks the
 * calling thread while it waits, so it must never run inside the daemon that serves the name.
 */
import koffi from 'koffi';
import { libqb, type Libqb } from './libqb';
import { CLIENT_MAX_MESSAGE, decodeResponse, encodeRequest, SERVICE_NAME, type DecodedResponse } from './protocol';

export class QbIpcClient {
  private conn: unknown;
  private readonly api: Libqb;
  private readonly buffer: Buffer;

  private constructor(conn: unknown, api: Libqb, maxMessage: number) {
    this.conn = conn;
    this.api = api;
    this.buffer = Buffer.alloc(maxMessage);
  }

  /** Connects, or throws with the errno libqb left (EACCES when the server refused us). */
  static connect(name = SERVICE_NAME, maxMessage = CLIENT_MAX_MESSAGE): QbIpcClient {
    const api = libqb();
    const conn = api.ipccConnect(name, maxMessage);
    if (conn === null) {
      const err = new Error(`qb_ipcc_connect(${name}) failed: errno ${koffi.errno()}`) as Error & { errno: number };
      err.errno = koffi.errno();
      throw err;
    }
    return new QbIpcClient(conn, api, maxMessage);
  }

  /** Sends a raw request message and returns the raw response bytes. */
  sendRaw(request: Buffer, timeoutMs = 10_000): Buffer {
    if (this.conn === null) throw new Error('client is closed');
    const n = Number(this.api.ipccSendvRecv(this.conn, [{ iov_base: request, iov_len: request.length }], 1, this.buffer, this.buffer.length, timeoutMs));
    if (n < 0) throw new Error(`qb_ipcc_sendv_recv failed: errno ${-n}`);
    return Buffer.from(this.buffer.subarray(0, n));
  }

  /** Request `id` with `payload` after the 16-byte header. */
  request(id: number, payload?: Buffer, timeoutMs?: number): DecodedResponse {
    return decodeResponse(this.sendRaw(encodeRequest(id, payload), timeoutMs));
  }

  close(): void {
    if (this.conn === null) return;
    this.api.ipccDisconnect(this.conn);
    this.conn = null;
  }
}
