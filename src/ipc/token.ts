/**
 * VERIFY_TOKEN (spec §10): the request carries `"<userid> <token>"` + NUL; it is valid when some
 * whole line of `priv/token.cfg` equals it byte for byte. Pure.
 */
import { Errno } from '../memdb/errno';
import { REQUEST_HEADER_SIZE } from './protocol';

/**
 * The token bytes of a VERIFY_TOKEN request, or -EINVAL: empty, containing a newline, not
 * NUL-terminated, or containing a NUL before its end.
 */
export function tokenOfRequest(msg: Buffer): Buffer | number {
  const tokenLen = msg.length - REQUEST_HEADER_SIZE - 1;
  if (tokenLen <= 0) return -Errno.EINVAL;
  const token = msg.subarray(REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + tokenLen);
  if (token.includes(0x0a)) return -Errno.EINVAL;
  if (msg[REQUEST_HEADER_SIZE + tokenLen] !== 0) return -Errno.EINVAL;
  if (token.includes(0)) return -Errno.EINVAL;
  return token;
}

/** 0 when a line of `tokenCfg` equals `token`, else -ENOENT (also when the file is missing/empty). */
export function verifyToken(tokenCfg: Buffer | undefined, token: Buffer): number {
  if (tokenCfg === undefined || tokenCfg.length < token.length) return -Errno.ENOENT;
  let start = 0;
  for (;;) {
    const nl = tokenCfg.indexOf(0x0a, start);
    const end = nl < 0 ? tokenCfg.length : nl;
    if (end - start === token.length && tokenCfg.compare(token, 0, token.length, start, end) === 0) return 0;
    if (nl < 0) return -Errno.ENOENT;
    start = nl + 1;
  }
}
