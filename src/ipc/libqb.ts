/**
 * koffi declarations of the parts of libqb 2.0 (libqb.so.100) that the `pve2` server and its test
 * client use. Layouts from qb/qbipcs.h, qb/qbipcc.h, qb/qbloop.h:
 * - struct qb_ipcs_service_handlers { accept, created, msg_process, closed, destroyed } (copied by
 *   qb_ipcs_create), struct qb_ipcs_poll_handlers { job_add, dispatch_add, dispatch_mod,
 *   dispatch_del } (copied by qb_ipcs_poll_handlers_set): the function pointers must stay
 *   registered, the structs need not;
 * - struct qb_ipcs_connection_stats: client_pid is its first field (int32).
 * The library is loaded on first use, so importing this module never needs libqb.
 */
import koffi from 'koffi';
import { lazyLibrary, namedProto, namedStruct } from '../corosync/koffi-types';

/** enum qb_ipc_type */
export const QB_IPC_SHM = 1;

/** poll(2) bits as libqb passes and expects them. */
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

// ---- callback prototypes ----
export const DispatchFn = namedProto('pmxcfs_qb_ipcs_dispatch_fn', 'int32_t', ['int32_t', 'int32_t', 'void *']);
export const JobFn = namedProto('pmxcfs_qb_loop_job_dispatch_fn', 'void', ['void *']);
export const DispatchAddFn = namedProto('pmxcfs_qb_ipcs_dispatch_add_fn', 'int32_t', [
  'int',
  'int32_t',
  'int32_t',
  'void *',
  koffi.pointer(DispatchFn),
]);
export const DispatchDelFn = namedProto('pmxcfs_qb_ipcs_dispatch_del_fn', 'int32_t', ['int32_t']);
export const JobAddFn = namedProto('pmxcfs_qb_ipcs_job_add_fn', 'int32_t', ['int', 'void *', koffi.pointer(JobFn)]);

export const AcceptFn = namedProto('pmxcfs_qb_ipcs_connection_accept_fn', 'int32_t', ['void *', 'uint32_t', 'uint32_t']);
export const ConnectionFn = namedProto('pmxcfs_qb_ipcs_connection_fn', 'void', ['void *']);
export const MsgProcessFn = namedProto('pmxcfs_qb_ipcs_msg_process_fn', 'int32_t', ['void *', 'void *', 'size_t']);
export const ClosedFn = namedProto('pmxcfs_qb_ipcs_connection_closed_fn', 'int32_t', ['void *']);

export const PollHandlersStruct = namedStruct('pmxcfs_qb_ipcs_poll_handlers', {
  job_add: koffi.pointer(JobAddFn),
  dispatch_add: koffi.pointer(DispatchAddFn),
  dispatch_mod: koffi.pointer(DispatchAddFn),
  dispatch_del: koffi.pointer(DispatchDelFn),
});

export const ServiceHandlersStruct = namedStruct('pmxcfs_qb_ipcs_service_handlers', {
  connection_accept: koffi.pointer(AcceptFn),
  connection_created: koffi.pointer(ConnectionFn),
  msg_process: koffi.pointer(MsgProcessFn),
  connection_closed: koffi.pointer(ClosedFn),
  connection_destroyed: koffi.pointer(ConnectionFn),
});

export const ConnectionStatsStruct = namedStruct('pmxcfs_qb_ipcs_connection_stats', {
  client_pid: 'int32_t',
  requests: 'uint64_t',
  responses: 'uint64_t',
  events: 'uint64_t',
  send_retries: 'uint64_t',
  recv_retries: 'uint64_t',
  flow_control_state: 'int32_t',
  flow_control_count: 'uint64_t',
});

export const IovecStruct = namedStruct('pmxcfs_qb_iovec', { iov_base: 'void *', iov_len: 'size_t' });

export const libqb = lazyLibrary('libqb.so.100', (lib) => ({
  // server
  ipcsCreate: lib.func('qb_ipcs_create', 'void *', ['const char *', 'int32_t', 'int', koffi.pointer(ServiceHandlersStruct)]),
  ipcsPollHandlersSet: lib.func('qb_ipcs_poll_handlers_set', 'void', ['void *', koffi.pointer(PollHandlersStruct)]),
  ipcsRun: lib.func('qb_ipcs_run', 'int32_t', ['void *']),
  ipcsDestroy: lib.func('qb_ipcs_destroy', 'void', ['void *']),
  ipcsResponseSend: lib.func('qb_ipcs_response_send', 'int64_t', ['void *', 'const void *', 'size_t']),
  ipcsDisconnect: lib.func('qb_ipcs_disconnect', 'void', ['void *']),
  ipcsServiceContextSet: lib.func('qb_ipcs_service_context_set', 'void', ['void *', 'void *']),
  ipcsConnectionServiceContextGet: lib.func('qb_ipcs_connection_service_context_get', 'void *', ['void *']),
  ipcsConnectionStatsGet: lib.func('qb_ipcs_connection_stats_get', 'int32_t', [
    'void *',
    koffi.out(koffi.pointer(ConnectionStatsStruct)),
    'int32_t',
  ]),
  ipcsConnectionGetBufferSize: lib.func('qb_ipcs_connection_get_buffer_size', 'int32_t', ['void *']),
  // client
  ipccConnect: lib.func('qb_ipcc_connect', 'void *', ['const char *', 'size_t']),
  ipccSendvRecv: lib.func('qb_ipcc_sendv_recv', 'int64_t', [
    'void *',
    koffi.pointer(IovecStruct),
    'uint32_t',
    'void *',
    'size_t',
    'int32_t',
  ]),
  ipccDisconnect: lib.func('qb_ipcc_disconnect', 'void', ['void *']),
}));

export type Libqb = ReturnType<typeof libqb>;
