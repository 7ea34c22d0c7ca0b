/**
 * koffi declarations of libcmap (corosync 3, cmap.h): get, prefix iteration and change tracking.
 * struct cmap_notify_value { cmap_value_types_t type; size_t len; const void *data; } is passed by
 * value to the notify function; we only use the key name and re-read.
 */
import koffi from 'koffi';
import { CsError, CsResult, csCheck, csFail, csOk } from './cs-error';
import { asHandle, lazyLibrary, namedProto, namedStruct, outPointer } from './koffi-types';

export const CMAP_KEYNAME_MAXLEN = 255;
export const CMAP_TRACK_DELETE = 1;
export const CMAP_TRACK_MODIFY = 2;
export const CMAP_TRACK_ADD = 4;
export const CMAP_TRACK_PREFIX = 8;

/** cmap_value_types_t */
export const CmapType = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, INT64: 7, UINT64: 8,
  FLOAT: 9, DOUBLE: 10, STRING: 11, BINARY: 12,
} as const;

/** A cmap value: integers of up to 32 bits and doubles as number, 64-bit integers as bigint. */
export type CmapValue = number | bigint | string | Buffer;

/** Decodes the bytes of a cmap value of type `type`; a wrong length is an error, never a guess. */
export function decodeCmapValue(type: number, bytes: Buffer): CmapValue | Error {
  const sized = (n: number, read: () => CmapValue): CmapValue | Error =>
    bytes.length === n ? read() : new Error(`cmap value of type ${type} has ${bytes.length} bytes, expected ${n}`);
  switch (type) {
    case CmapType.INT8: return sized(1, () => bytes.readInt8(0));
    case CmapType.UINT8: return sized(1, () => bytes.readUInt8(0));
    case CmapType.INT16: return sized(2, () => bytes.readInt16LE(0));
    case CmapType.UINT16: return sized(2, () => bytes.readUInt16LE(0));
    case CmapType.INT32: return sized(4, () => bytes.readInt32LE(0));
    case CmapType.UINT32: return sized(4, () => bytes.readUInt32LE(0));
    case CmapType.INT64: return sized(8, () => bytes.readBigInt64LE(0));
    case CmapType.UINT64: return sized(8, () => bytes.readBigUInt64LE(0));
    case CmapType.FLOAT: return sized(4, () => bytes.readFloatLE(0));
    case CmapType.DOUBLE: return sized(8, () => bytes.readDoubleLE(0));
    case CmapType.STRING: {
      const end = bytes.indexOf(0);
      return bytes.toString('utf8', 0, end === -1 ? bytes.length : end);
    }
    case CmapType.BINARY: return Buffer.from(bytes);
    default: return new Error(`unknown cmap value type ${type}`);
  }
}

const NotifyValue = namedStruct('pmxcfs_cmap_notify_value', { type: 'int', len: 'size_t', data: 'const void *' });
const NotifyFn = namedProto('pmxcfs_cmap_notify_fn_t', 'void', [
  'uint64_t', 'uint64_t', 'int32_t', 'const char *', NotifyValue, NotifyValue, 'void *',
]);

const api = lazyLibrary('libcmap.so.4', (lib) => ({
  initialize: lib.func('cmap_initialize', 'int', [outPointer('uint64_t')]),
  finalize: lib.func('cmap_finalize', 'int', ['uint64_t']),
  fdGet: lib.func('cmap_fd_get', 'int', ['uint64_t', outPointer('int')]),
  dispatch: lib.func('cmap_dispatch', 'int', ['uint64_t', 'int']),
  get: lib.func('cmap_get', 'int', ['uint64_t', 'const char *', 'void *', koffi.inout(koffi.pointer('size_t')), outPointer('int')]),
  iterInit: lib.func('cmap_iter_init', 'int', ['uint64_t', 'const char *', outPointer('uint64_t')]),
  iterNext: lib.func('cmap_iter_next', 'int', ['uint64_t', 'uint64_t', 'void *', outPointer('size_t'), outPointer('int')]),
  iterFinalize: lib.func('cmap_iter_finalize', 'int', ['uint64_t', 'uint64_t']),
  trackAdd: lib.func('cmap_track_add', 'int', [
    'uint64_t', 'const char *', 'int32_t', koffi.pointer(NotifyFn), 'void *', outPointer('uint64_t'),
  ]),
  trackDelete: lib.func('cmap_track_delete', 'int', ['uint64_t', 'uint64_t']),
}));

/** The registered notify function pointer; release only after cmap_finalize of its handles. */
export class CmapNotifySlot {
  readonly notifyFn: unknown;
  private released = false;

  constructor(notify: (event: number, key: string) => void, onError: (where: string, err: unknown) => void) {
    this.notifyFn = koffi.register(
      (_handle: bigint, _track: bigint, event: number, key: string) => {
        try {
          notify(event, key);
        } catch (err) {
          onError('cmap notify', err);
        }
      },
      koffi.pointer(NotifyFn),
    );
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    koffi.unregister(this.notifyFn as bigint);
  }
}

export function cmapInitialize(): CsResult<bigint> {
  const handle: unknown[] = [0n];
  const rc = api().initialize(handle);
  return rc === CsError.OK ? csOk(asHandle(handle[0])) : csFail(rc);
}

export function cmapFinalize(handle: bigint): CsResult<void> {
  return csCheck(api().finalize(handle));
}

export function cmapFdGet(handle: bigint): CsResult<number> {
  const fd = [0];
  const rc = api().fdGet(handle, fd);
  return rc === CsError.OK ? csOk(fd[0]!) : csFail(rc);
}

export function cmapDispatch(handle: bigint, flags: number): CsResult<void> {
  return csCheck(api().dispatch(handle, flags));
}

/** Largest value we read; cmap strings in corosync.conf are far shorter. */
const MAX_VALUE_SIZE = 4096;

/** One key's value; CS_ERR_NOT_EXIST when the key is absent. A malformed value is CS_ERR_MESSAGE_ERROR. */
export function cmapGet(handle: bigint, key: string): CsResult<CmapValue> {
  const value = Buffer.alloc(MAX_VALUE_SIZE);
  const len: unknown[] = [MAX_VALUE_SIZE];
  const type = [0];
  const rc = api().get(handle, key, value, len, type);
  if (rc !== CsError.OK) return csFail(rc);
  const n = Number(len[0]);
  if (!(n >= 0 && n <= MAX_VALUE_SIZE)) return csFail(CsError.ERR_MESSAGE_ERROR);
  const decoded = decodeCmapValue(type[0]!, value.subarray(0, n));
  return decoded instanceof Error ? csFail(CsError.ERR_MESSAGE_ERROR) : csOk(decoded);
}

/** The names of every key that starts with `prefix`, in cmap's (sorted) order. */
export function cmapKeys(handle: bigint, prefix: string): CsResult<string[]> {
  const iter: unknown[] = [0n];
  const rc = api().iterInit(handle, prefix, iter);
  if (rc !== CsError.OK) return csFail(rc);
  const iterHandle = asHandle(iter[0]);
  const keys: string[] = [];
  const name = Buffer.alloc(CMAP_KEYNAME_MAXLEN + 1);
  try {
    for (;;) {
      name.fill(0);
      const step = api().iterNext(handle, iterHandle, name, [0], [0]);
      if (step === CsError.ERR_NO_SECTIONS) return csOk(keys);
      if (step !== CsError.OK) return csFail(step);
      const end = name.indexOf(0);
      keys.push(name.toString('utf8', 0, end === -1 ? name.length : end));
    }
  } finally {
    api().iterFinalize(handle, iterHandle);
  }
}

export function cmapTrackAdd(handle: bigint, key: string, trackType: number, slot: CmapNotifySlot): CsResult<bigint> {
  const track: unknown[] = [0n];
  const rc = api().trackAdd(handle, key, trackType, slot.notifyFn, null, track);
  return rc === CsError.OK ? csOk(asHandle(track[0])) : csFail(rc);
}

export function cmapTrackDelete(handle: bigint, track: bigint): CsResult<void> {
  return csCheck(api().trackDelete(handle, track));
}
