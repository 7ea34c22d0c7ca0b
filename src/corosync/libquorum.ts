/**
 * koffi declarations of libquorum (corosync 3, quorum.h), the classic (v0) model that pmxcfs uses:
 * quorum_callbacks_t { void (*notify)(handle, uint32 quorate, uint64 ring_seq, uint32 n, uint32 *view) }.
 */
import koffi from 'koffi';
import { CsError, CsResult, csCheck, csFail, csOk } from './cs-error';
import { asHandle, lazyLibrary, namedProto, namedStruct, outPointer } from './koffi-types';

/** quorum_initialize's quorum_type: QUORUM_SET means a quorum provider is configured. */
export const QUORUM_FREE = 0;
export const QUORUM_SET = 1;

const NotifyFn = namedProto('pmxcfs_quorum_notification_fn_t', 'void', ['uint64_t', 'uint32_t', 'uint64_t', 'uint32_t', 'const void *']);
const CallbacksStruct = namedStruct('pmxcfs_quorum_callbacks_t', { quorum_notify_fn: koffi.pointer(NotifyFn) });

const api = lazyLibrary('libquorum.so.5', (lib) => ({
  initialize: lib.func('quorum_initialize', 'int', [
    outPointer('uint64_t'), koffi.pointer(CallbacksStruct), outPointer('uint32_t'),
  ]),
  finalize: lib.func('quorum_finalize', 'int', ['uint64_t']),
  fdGet: lib.func('quorum_fd_get', 'int', ['uint64_t', outPointer('int')]),
  dispatch: lib.func('quorum_dispatch', 'int', ['uint64_t', 'int']),
  getquorate: lib.func('quorum_getquorate', 'int', ['uint64_t', outPointer('int')]),
  trackstart: lib.func('quorum_trackstart', 'int', ['uint64_t', 'unsigned int']),
}));

/** The registered notify function pointer; release only after quorum_finalize of its handles. */
export class QuorumCallbackSlot {
  readonly notifyFn: unknown;
  private released = false;

  constructor(notify: (quorate: boolean) => void, onError: (where: string, err: unknown) => void) {
    this.notifyFn = koffi.register(
      (_handle: bigint, quorate: number) => {
        try {
          notify(quorate !== 0);
        } catch (err) {
          onError('quorum notify', err);
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

export function quorumInitialize(slot: QuorumCallbackSlot): CsResult<{ handle: bigint; quorumType: number }> {
  const handle: unknown[] = [0n];
  const type = [0];
  const rc = api().initialize(handle, { quorum_notify_fn: slot.notifyFn }, type);
  return rc === CsError.OK ? csOk({ handle: asHandle(handle[0]), quorumType: type[0]! }) : csFail(rc);
}

export function quorumFinalize(handle: bigint): CsResult<void> {
  return csCheck(api().finalize(handle));
}

export function quorumFdGet(handle: bigint): CsResult<number> {
  const fd = [0];
  const rc = api().fdGet(handle, fd);
  return rc === CsError.OK ? csOk(fd[0]!) : csFail(rc);
}

export function quorumDispatch(handle: bigint, flags: number): CsResult<void> {
  return csCheck(api().dispatch(handle, flags));
}

export function quorumGetquorate(handle: bigint): CsResult<boolean> {
  const quorate = [0];
  const rc = api().getquorate(handle, quorate);
  return rc === CsError.OK ? csOk(quorate[0] !== 0) : csFail(rc);
}

export function quorumTrackstart(handle: bigint, flags: number): CsResult<void> {
  return csCheck(api().trackstart(handle, flags));
}
