/**
 * POSIX errno values (Linux x86-64) used as data throughout the core.
 * Operations return a non-negative result or a negative errno (`-Errno.ENOENT`), never throw
 * for an expected failure (design.md, principle 4).
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ECHRNG: 44,
  EILSEQ: 84,
  EOPNOTSUPP: 95,
} as const;

export type ErrnoName = keyof typeof Errno;

const namesByValue = new Map<number, ErrnoName>(
  (Object.keys(Errno) as ErrnoName[]).map((name) => [Errno[name], name]),
);

/** "ENOENT" for 2 or -2; "E<n>" for an unknown value. */
export function errnoName(value: number): string {
  return namesByValue.get(Math.abs(value)) ?? `E${Math.abs(value)}`;
}

/** True when an operation result is a negative errno. */
export function isErrno(result: number): boolean {
  return result < 0;
}
