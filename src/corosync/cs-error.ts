/**
 * corosync's cs_error_t (corotypes.h, corosync 3) as data, and the typed result every binding returns.
 */

export const CsError = {
  OK: 1,
  ERR_LIBRARY: 2,
  ERR_VERSION: 3,
  ERR_INIT: 4,
  ERR_TIMEOUT: 5,
  ERR_TRY_AGAIN: 6,
  ERR_INVALID_PARAM: 7,
  ERR_NO_MEMORY: 8,
  ERR_BAD_HANDLE: 9,
  ERR_BUSY: 10,
  ERR_ACCESS: 11,
  ERR_NOT_EXIST: 12,
  ERR_NAME_TOO_LONG: 13,
  ERR_EXIST: 14,
  ERR_NO_SPACE: 15,
  ERR_INTERRUPT: 16,
  ERR_NAME_NOT_FOUND: 17,
  ERR_NO_RESOURCES: 18,
  ERR_NOT_SUPPORTED: 19,
  ERR_BAD_OPERATION: 20,
  ERR_FAILED_OPERATION: 21,
  ERR_MESSAGE_ERROR: 22,
  ERR_QUEUE_FULL: 23,
  ERR_QUEUE_NOT_AVAILABLE: 24,
  ERR_BAD_FLAGS: 25,
  ERR_TOO_BIG: 26,
  ERR_NO_SECTIONS: 27,
  ERR_CONTEXT_NOT_FOUND: 28,
  ERR_TOO_MANY_GROUPS: 30,
  ERR_SECURITY: 100,
} as const;

/** cs_dispatch_flags_t */
export const CS_DISPATCH_ONE = 1;
export const CS_DISPATCH_ALL = 2;
/** Track flags shared by quorum and cmap (corotypes.h). */
export const CS_TRACK_CURRENT = 0x01;
export const CS_TRACK_CHANGES = 0x02;
export const CS_TRACK_CHANGES_ONLY = 0x04;

const namesByCode = new Map<number, string>(
  Object.entries(CsError).map(([name, code]) => [code, `CS_${name}`]),
);

/** "CS_ERR_LIBRARY" for 2; "CS_ERR_<n>" for a code this table does not know. */
export function csErrorName(code: number): string {
  return namesByCode.get(code) ?? `CS_ERR_${code}`;
}

/** The outcome of one library call: its value, or the cs_error_t it failed with. */
export type CsResult<T> = { ok: true; value: T } | { ok: false; error: number };

export function csOk<T>(value: T): CsResult<T> {
  return { ok: true, value };
}

export function csFail<T>(error: number): CsResult<T> {
  return { ok: false, error };
}

/** Turns a bare cs_error_t into a result without a value. */
export function csCheck(code: number): CsResult<void> {
  return code === CsError.OK ? { ok: true, value: undefined } : { ok: false, error: code };
}
