/**
 * The life cycle shared by the corosync service clients that follow a value (quorum, cmap):
 * start() registers the callback slot and connects; a failure logs once per state, finalizes the
 * handle and tries again after the reconnect delay (forever, until stop()); stop() finalizes and
 * releases the slot after the library's dispatch has returned. Subclasses only open their service
 * and say how to finalize a handle. (CpgGroup has a richer life — joining, leaving, sends — of its own.)
 */
import { csErrorName, type CsResult } from './cs-error';
import { DispatchPoller } from './dispatch-poller';
import { Logger, OncePerStateLog, stderrLogger } from './log';

export interface ReconnectingClientOptions {
  log?: Logger;
  /** Delay between attempts to (re)initialise. Default 5000 ms. */
  reconnectDelayMs?: number;
}

export abstract class ReconnectingClient<Slot extends { release(): void }> {
  protected readonly log: Logger;
  protected readonly problems: OncePerStateLog;
  private readonly reconnectDelayMs: number;
  private running = false;
  private slot: Slot | null = null;
  protected handle: bigint | null = null;
  private poller: DispatchPoller | null = null;
  private timer: NodeJS.Timeout | null = null;

  protected constructor(
    /** Prefix of every log line, e.g. "quorum". */
    private readonly service: string,
    options: ReconnectingClientOptions,
  ) {
    this.log = options.log ?? stderrLogger;
    this.problems = new OncePerStateLog(this.log);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 5000;
  }

  get connected(): boolean {
    return this.poller !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.slot = this.createSlot();
    this.connect();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clearTimer();
    const slot = this.slot;
    this.slot = null;
    this.disconnect(() => slot?.release());
    this.lost();
  }

  /** The library's callback slot, made once per start(). */
  protected abstract createSlot(): Slot;
  /**
   * Initialise the service with `slot`: set `this.handle` as soon as there is one, call
   * `this.failed(...)` and return on any error, and end with `this.poll(fd, dispatch)`.
   */
  protected abstract open(slot: Slot): void;
  protected abstract finalize(handle: bigint): void;
  /** The service is gone (failure or stop): drop what only a live connection can know. */
  protected lost(): void {}

  /** Start dispatching the service's fd on the event loop; the connection is up. */
  protected poll(fd: number, dispatch: () => CsResult<void>, dispatchName: string): void {
    this.poller = new DispatchPoller(fd, dispatch, (error) => this.failed(`${dispatchName} failed: ${csErrorName(error)}`));
    this.problems.clear();
  }

  /** Service gone or unusable: log once, drop the handle, try again later. */
  protected failed(message: string): void {
    this.problems.problem('warning', `${this.service}: ${message}`);
    this.disconnect();
    this.lost();
    if (this.running) {
      this.clearTimer();
      this.timer = setTimeout(() => this.connect(), this.reconnectDelayMs);
    }
  }

  /** Calls each listener, logging (never propagating) what one throws. */
  protected notify<T>(listeners: Iterable<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (err) {
        this.log('error', `${this.service}: onChange listener threw: ${String(err)}`);
      }
    }
  }

  private connect(): void {
    this.timer = null;
    if (!this.running || this.slot === null) return;
    this.open(this.slot);
  }

  private disconnect(afterFinalize: () => void = () => {}): void {
    const handle = this.handle;
    this.handle = null;
    const release = () => {
      if (handle !== null) this.finalize(handle);
      afterFinalize();
    };
    if (this.poller !== null) this.poller.closeThen(release);
    else release();
    this.poller = null;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
