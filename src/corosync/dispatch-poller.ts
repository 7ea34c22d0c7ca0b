/**
 * Drives one corosync client library from the Node event loop: libuv polls the library's fd and,
 * whenever it is readable, the library's dispatch(CS_DISPATCH_ALL) runs on the main thread, which
 * runs the library's callbacks. A failing dispatch (CS_ERR_LIBRARY when corosync went away) stops the
 * poll and reports once; the owner then finalizes the handle. The poll is stopped before the owner
 * finalizes, since libuv must not watch a closed fd.
 */
import koffi from 'koffi';
import { CsError, CsResult } from './cs-error';

export class DispatchPoller {
  private handle: ReturnType<typeof koffi.node.poll> | null;
  private dispatching = false;
  private readonly afterThisDispatch: (() => void)[] = [];

  /**
   * @param dispatch runs the library's dispatch; its callbacks run inside it
   * @param onFailure called once, after the poll stopped, with the cs_error_t of the failed dispatch
   */
  constructor(
    fd: number,
    private readonly dispatch: () => CsResult<void>,
    private readonly onFailure: (error: number) => void,
  ) {
    this.handle = koffi.node.poll(fd, { readable: true, disconnect: true }, () => this.onReadable());
  }

  /** True while the library is inside dispatch (and so inside one of our callbacks). */
  get inDispatch(): boolean {
    return this.dispatching;
  }

  get active(): boolean {
    return this.handle !== null;
  }

  /**
   * Stops polling, then runs `release` (finalize the handle, unregister callbacks) — at once, or, when
   * called from inside a callback, right after the library's dispatch has returned.
   */
  closeThen(release: () => void): void {
    this.close();
    if (this.dispatching) this.afterThisDispatch.push(release);
    else release();
  }

  close(): void {
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    handle.stop();
    handle.close();
  }

  private onReadable(): void {
    if (this.handle === null) return;
    let result: CsResult<void>;
    this.dispatching = true;
    try {
      result = this.dispatch();
    } catch (err) {
      // koffi only throws on a binding mistake; treat it like a broken connection.
      result = { ok: false, error: CsError.ERR_LIBRARY };
      process.emitWarning(`corosync dispatch threw: ${String(err)}`);
    } finally {
      this.dispatching = false;
    }
    // TRY_AGAIN: corosync is busy; the fd stays readable and we come back.
    for (const release of this.afterThisDispatch.splice(0)) release();
    if (!result.ok && result.error !== CsError.ERR_TRY_AGAIN && this.handle !== null) {
      this.close();
      this.onFailure(result.error);
    }
  }
}
