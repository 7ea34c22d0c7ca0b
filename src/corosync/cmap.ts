/**
 * Follows the cluster description in corosync's cmap (spec §7): reads it on connect, tracks the
 * prefix nodelist.node. and the key totem.config_version, re-reads after every dispatch that carried
 * a change, and re-initialises every 5 s while corosync is away (the last info is kept meanwhile).
 */
import { CS_DISPATCH_ALL, CsError, csErrorName } from './cs-error';
import { ClusterInfo, NODELIST_PREFIX, readClusterInfo } from './cluster-info';
import { DispatchPoller } from './dispatch-poller';
import {
  CMAP_TRACK_ADD, CMAP_TRACK_DELETE, CMAP_TRACK_MODIFY, CMAP_TRACK_PREFIX, CmapNotifySlot, CmapValue, cmapDispatch,
  cmapFdGet, cmapFinalize, cmapGet, cmapInitialize, cmapKeys, cmapTrackAdd,
} from './libcmap';
import { Logger, OncePerStateLog, stderrLogger } from './log';

export interface ClusterConfigTrackerOptions {
  log?: Logger;
  /** Delay between attempts to (re)initialise. Default 5000 ms. */
  reconnectDelayMs?: number;
}

const TRACK_ALL = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY;

export class ClusterConfigTracker {
  private readonly log: Logger;
  private readonly problems: OncePerStateLog;
  private readonly reconnectDelayMs: number;
  private readonly listeners = new Set<(info: ClusterInfo) => void>();
  private running = false;
  private slot: CmapNotifySlot | null = null;
  private handle: bigint | null = null;
  private poller: DispatchPoller | null = null;
  private timer: NodeJS.Timeout | null = null;
  private changed = false;
  private current: ClusterInfo | null = null;

  constructor(options: ClusterConfigTrackerOptions = {}) {
    this.log = options.log ?? stderrLogger;
    this.problems = new OncePerStateLog(this.log);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 5000;
  }

  /** The last cluster description read (kept while corosync is away); null before the first read. */
  get info(): ClusterInfo | null {
    return this.current;
  }

  get connected(): boolean {
    return this.poller !== null;
  }

  /** Calls `listener(info)` after every read that changed the description; returns an unsubscribe. */
  onChange(listener: (info: ClusterInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.slot = new CmapNotifySlot(
      () => {
        this.changed = true;
      },
      (where, err) => this.log('error', `cmap: ${where} threw: ${String(err)}`),
    );
    this.connect();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clearTimer();
    const slot = this.slot;
    this.slot = null;
    this.disconnect(() => slot?.release());
  }

  private connect(): void {
    this.timer = null;
    if (!this.running || this.slot === null) return;
    const init = cmapInitialize();
    if (!init.ok) return this.failed(`cmap_initialize failed: ${csErrorName(init.error)}`);
    const handle = init.value;
    this.handle = handle;
    for (const [key, flags] of [[NODELIST_PREFIX, TRACK_ALL | CMAP_TRACK_PREFIX], ['totem.config_version', TRACK_ALL]] as const) {
      const track = cmapTrackAdd(handle, key, flags, this.slot);
      if (!track.ok) return this.failed(`cmap_track_add ${key} failed: ${csErrorName(track.error)}`);
    }
    const fd = cmapFdGet(handle);
    if (!fd.ok) return this.failed(`cmap_fd_get failed: ${csErrorName(fd.error)}`);
    this.poller = new DispatchPoller(
      fd.value,
      () => {
        const result = cmapDispatch(handle, CS_DISPATCH_ALL);
        // Re-read once per dispatch, not once per key: a reload changes many keys at once.
        if (result.ok && this.changed) queueMicrotask(() => this.reread());
        return result;
      },
      (error) => this.failed(`cmap_dispatch failed: ${csErrorName(error)}`),
    );
    this.problems.clear();
    this.reread();
  }

  private reread(): void {
    this.changed = false;
    const handle = this.handle;
    if (handle === null) return;
    const keys = cmapKeys(handle, NODELIST_PREFIX);
    if (!keys.ok) return this.failed(`cmap_iter over ${NODELIST_PREFIX} failed: ${csErrorName(keys.error)}`);
    let readError: number | null = null;
    const get = (key: string): CmapValue | undefined => {
      const value = cmapGet(handle, key);
      if (value.ok) return value.value;
      if (value.error !== CsError.ERR_NOT_EXIST) readError ??= value.error;
      return undefined;
    };
    const result = readClusterInfo(keys.value, get);
    if (readError !== null) return this.failed(`cmap_get failed: ${csErrorName(readError)}`);
    for (const problem of result.problems) this.problems.problem('warning', `cmap: ${problem}`);
    if (result.info === null) return;
    if (this.current !== null && JSON.stringify(this.current) === JSON.stringify(result.info)) return;
    this.current = result.info;
    this.log('info', `cluster ${result.info.clusterName} config_version ${result.info.configVersion}, ` +
      `${result.info.nodes.length} node(s)`);
    for (const listener of [...this.listeners]) {
      try {
        listener(result.info);
      } catch (err) {
        this.log('error', `cmap: onChange listener threw: ${String(err)}`);
      }
    }
  }

  private failed(message: string): void {
    this.problems.problem('warning', `cmap: ${message}`);
    this.disconnect();
    if (this.running) {
      this.clearTimer();
      this.timer = setTimeout(() => this.connect(), this.reconnectDelayMs);
    }
  }

  private disconnect(afterFinalize: () => void = () => {}): void {
    const handle = this.handle;
    this.handle = null;
    const release = () => {
      if (handle !== null) cmapFinalize(handle);
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
