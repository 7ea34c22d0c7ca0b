/**
 * Follows the cluster description in corosync's cmap (spec §7): reads it on connect, tracks the
 * prefix nodelist.node. and the key totem.config_version, re-reads after every dispatch that carried
 * a change, and re-initialises every 5 s while corosync is away (the last info is kept meanwhile).
 */
import { CS_DISPATCH_ALL, CsError, csErrorName } from './cs-error';
import { ClusterInfo, NODELIST_PREFIX, readClusterInfo } from './cluster-info';
import {
  CMAP_TRACK_ADD, CMAP_TRACK_DELETE, CMAP_TRACK_MODIFY, CMAP_TRACK_PREFIX, CmapNotifySlot, CmapValue, cmapDispatch,
  cmapFdGet, cmapFinalize, cmapGet, cmapInitialize, cmapKeys, cmapTrackAdd,
} from './libcmap';
import { ReconnectingClient, type ReconnectingClientOptions } from './reconnecting-client';

export type ClusterConfigTrackerOptions = ReconnectingClientOptions;

const TRACK_ALL = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY;

export class ClusterConfigTracker extends ReconnectingClient<CmapNotifySlot> {
  private readonly listeners = new Set<(info: ClusterInfo) => void>();
  private changed = false;
  private current: ClusterInfo | null = null;

  constructor(options: ClusterConfigTrackerOptions = {}) {
    super('cmap', options);
  }

  /** The last cluster description read (kept while corosync is away); null before the first read. */
  get info(): ClusterInfo | null {
    return this.current;
  }

  /** Calls `listener(info)` after every read that changed the description; returns an unsubscribe. */
  onChange(listener: (info: ClusterInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected createSlot(): CmapNotifySlot {
    return new CmapNotifySlot(
      () => {
        this.changed = true;
      },
      (where, err) => this.log('error', `cmap: ${where} threw: ${String(err)}`),
    );
  }

  protected open(slot: CmapNotifySlot): void {
    const init = cmapInitialize();
    if (!init.ok) return this.failed(`cmap_initialize failed: ${csErrorName(init.error)}`);
    const handle = init.value;
    this.handle = handle;
    for (const [key, flags] of [[NODELIST_PREFIX, TRACK_ALL | CMAP_TRACK_PREFIX], ['totem.config_version', TRACK_ALL]] as const) {
      const track = cmapTrackAdd(handle, key, flags, slot);
      if (!track.ok) return this.failed(`cmap_track_add ${key} failed: ${csErrorName(track.error)}`);
    }
    const fd = cmapFdGet(handle);
    if (!fd.ok) return this.failed(`cmap_fd_get failed: ${csErrorName(fd.error)}`);
    this.poll(
      fd.value,
      () => {
        const result = cmapDispatch(handle, CS_DISPATCH_ALL);
        // Re-read once per dispatch, not once per key: a reload changes many keys at once.
        if (result.ok && this.changed) queueMicrotask(() => this.reread());
        return result;
      },
      'cmap_dispatch',
    );
    this.reread();
  }

  protected finalize(handle: bigint): void {
    cmapFinalize(handle);
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
    this.log('debug', `cluster ${result.info.clusterName} config_version ${result.info.configVersion}, ` +
      `${result.info.nodes.length} node(s)`);
    this.notify(this.listeners, result.info);
  }
}
