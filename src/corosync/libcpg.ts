/**
 * koffi declarations of libcpg (corosync 3, cpg.h) and thin wrappers that return CsResult values.
 * Layouts: struct cpg_name { uint32_t length; char value[128]; } (length counts the NUL, spec §4),
 * struct cpg_address { uint32_t nodeid, pid, reason; }, cpg_callbacks_t { deliver_fn, confchg_fn }.
 */
import koffi from 'koffi';
import { CsError, CsResult, csCheck, csFail, csOk } from './cs-error';
import { asHandle, copyBytes, lazyLibrary, namedProto, namedStruct, outPointer } from './koffi-types';

export const CPG_MAX_NAME_LENGTH = 128;
export const CPG_NAME_SIZE = 4 + CPG_MAX_NAME_LENGTH;
export const CPG_ADDRESS_SIZE = 12;
/** cpg_guarantee_t */
export const CPG_TYPE_AGREED = 2;

/** cpg_reason_t, in cpg_address.reason of the left/joined lists. */
export const CpgReason = { JOIN: 1, LEAVE: 2, NODEDOWN: 3, NODEUP: 4, PROCDOWN: 5 } as const;

export interface CpgAddress {
  nodeid: number;
  pid: number;
  reason: number;
}

/** struct cpg_name for `name`; the length includes the terminating NUL ("pve_dcdb_v1" -> 12). */
export function encodeCpgName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.includes(0)) throw new RangeError(`invalid CPG group name ${JSON.stringify(name)}`);
  if (bytes.length + 1 > CPG_MAX_NAME_LENGTH) throw new RangeError(`CPG group name too long: ${name}`);
  const out = Buffer.alloc(CPG_NAME_SIZE);
  out.writeUInt32LE(bytes.length + 1, 0);
  bytes.copy(out, 4);
  return out;
}

/** Decodes `count` struct cpg_address from raw bytes (host order: little-endian on x86-64). */
export function decodeCpgAddresses(bytes: Buffer, count: number): CpgAddress[] {
  if (bytes.length < count * CPG_ADDRESS_SIZE) throw new RangeError('cpg_address list shorter than its count');
  const list: CpgAddress[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * CPG_ADDRESS_SIZE;
    list.push({
      nodeid: bytes.readUInt32LE(at),
      pid: bytes.readUInt32LE(at + 4),
      reason: bytes.readUInt32LE(at + 8),
    });
  }
  return list;
}

/** The JS side of cpg_callbacks_t, with message bytes and member lists already copied out. */
export interface CpgCallbacks {
  deliver(nodeid: number, pid: number, data: Buffer): void;
  confchg(members: CpgAddress[], left: CpgAddress[], joined: CpgAddress[]): void;
}

const DeliverFn = namedProto('pmxcfs_cpg_deliver_fn_t', 'void', [
  'uint64_t', 'const void *', 'uint32_t', 'uint32_t', 'const void *', 'size_t',
]);
const ConfchgFn = namedProto('pmxcfs_cpg_confchg_fn_t', 'void', [
  'uint64_t', 'const void *',
  'const void *', 'size_t',
  'const void *', 'size_t',
  'const void *', 'size_t',
]);
const CallbacksStruct = namedStruct('pmxcfs_cpg_callbacks_t', {
  cpg_deliver_fn: koffi.pointer(DeliverFn),
  cpg_confchg_fn: koffi.pointer(ConfchgFn),
});
const IovecStruct = namedStruct('pmxcfs_iovec', { iov_base: 'const void *', iov_len: 'size_t' });

const api = lazyLibrary('libcpg.so.4', (lib) => ({
  initialize: lib.func('cpg_initialize', 'int', [outPointer('uint64_t'), koffi.pointer(CallbacksStruct)]),
  finalize: lib.func('cpg_finalize', 'int', ['uint64_t']),
  fdGet: lib.func('cpg_fd_get', 'int', ['uint64_t', outPointer('int')]),
  dispatch: lib.func('cpg_dispatch', 'int', ['uint64_t', 'int']),
  join: lib.func('cpg_join', 'int', ['uint64_t', 'const void *']),
  leave: lib.func('cpg_leave', 'int', ['uint64_t', 'const void *']),
  mcastJoined: lib.func('cpg_mcast_joined', 'int', ['uint64_t', 'int', koffi.pointer(IovecStruct), 'unsigned int']),
  localGet: lib.func('cpg_local_get', 'int', ['uint64_t', outPointer('unsigned int')]),
  maxAtomicMsgsizeGet: lib.func('cpg_max_atomic_msgsize_get', 'int', ['uint64_t', outPointer('uint32_t')]),
}));

/**
 * The registered C function pointers of one set of callbacks. They stay valid until release():
 * release only after cpg_finalize of every handle that uses them.
 */
export class CpgCallbackSlots {
  readonly deliverFn: unknown;
  readonly confchgFn: unknown;
  private released = false;

  constructor(callbacks: CpgCallbacks, onError: (where: string, err: unknown) => void) {
    this.deliverFn = koffi.register(
      (_handle: bigint, _group: unknown, nodeid: number, pid: number, msg: unknown, len: number | bigint) => {
        try {
          callbacks.deliver(nodeid, pid, copyBytes(msg, Number(len)));
        } catch (err) {
          onError('deliver', err);
        }
      },
      koffi.pointer(DeliverFn),
    );
    this.confchgFn = koffi.register(
      (_handle: bigint, _group: unknown, m: unknown, nm: number | bigint, l: unknown, nl: number | bigint,
        j: unknown, nj: number | bigint) => {
        try {
          const list = (ptr: unknown, n: number | bigint) =>
            decodeCpgAddresses(copyBytes(ptr, Number(n) * CPG_ADDRESS_SIZE), Number(n));
          callbacks.confchg(list(m, nm), list(l, nl), list(j, nj));
        } catch (err) {
          onError('confchg', err);
        }
      },
      koffi.pointer(ConfchgFn),
    );
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    koffi.unregister(this.deliverFn as bigint);
    koffi.unregister(this.confchgFn as bigint);
  }
}

export function cpgInitialize(slots: CpgCallbackSlots): CsResult<bigint> {
  const handle: unknown[] = [0n];
  const rc = api().initialize(handle, { cpg_deliver_fn: slots.deliverFn, cpg_confchg_fn: slots.confchgFn });
  return rc === CsError.OK ? csOk(asHandle(handle[0])) : csFail(rc);
}

export function cpgFinalize(handle: bigint): CsResult<void> {
  return csCheck(api().finalize(handle));
}

export function cpgFdGet(handle: bigint): CsResult<number> {
  const fd = [0];
  const rc = api().fdGet(handle, fd);
  return rc === CsError.OK ? csOk(fd[0]!) : csFail(rc);
}

/** Runs the callbacks of everything that is pending (CS_DISPATCH_ALL, never blocks). */
export function cpgDispatch(handle: bigint, flags: number): CsResult<void> {
  return csCheck(api().dispatch(handle, flags));
}

export function cpgJoin(handle: bigint, name: Buffer): CsResult<void> {
  return csCheck(api().join(handle, name));
}

export function cpgLeave(handle: bigint, name: Buffer): CsResult<void> {
  return csCheck(api().leave(handle, name));
}

export function cpgMcastJoined(handle: bigint, guarantee: number, data: Buffer): CsResult<void> {
  return csCheck(api().mcastJoined(handle, guarantee, { iov_base: data, iov_len: data.length }, 1));
}

export function cpgLocalGet(handle: bigint): CsResult<number> {
  const nodeid = [0];
  const rc = api().localGet(handle, nodeid);
  return rc === CsError.OK ? csOk(nodeid[0]!) : csFail(rc);
}

export function cpgMaxAtomicMsgsizeGet(handle: bigint): CsResult<number> {
  const size = [0];
  const rc = api().maxAtomicMsgsizeGet(handle, size);
  return rc === CsError.OK ? csOk(size[0]!) : csFail(rc);
}
