import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { encodeRequest, IpcOp } from '../../../src/ipc/protocol';
import { tokenOfRequest, verifyToken } from '../../../src/ipc/token';

const req = (payload: Buffer) => encodeRequest(IpcOp.VERIFY_TOKEN, payload);

describe('VERIFY_TOKEN', () => {
  it('request validation: empty, newline, missing NUL, embedded NUL -> EINVAL', () => {
    expect(tokenOfRequest(req(Buffer.from('\0')))).toBe(-Errno.EINVAL);
    expect(tokenOfRequest(req(Buffer.alloc(0)))).toBe(-Errno.EINVAL);
    expect(tokenOfRequest(req(Buffer.from('a\nb\0')))).toBe(-Errno.EINVAL);
    expect(tokenOfRequest(req(Buffer.from('abc')))).toBe(-Errno.EINVAL);
    expect(tokenOfRequest(req(Buffer.from('a\0b\0')))).toBe(-Errno.EINVAL);
    expect(tokenOfRequest(req(Buffer.from('root@pam!t 1234\0')))).toEqual(Buffer.from('root@pam!t 1234'));
  });

  it('valid iff a whole line of token.cfg equals the token', () => {
    const cfg = Buffer.from('root@pam!a 1111\nroot@pam!b 2222\nlast 3333');
    expect(verifyToken(cfg, Buffer.from('root@pam!a 1111'))).toBe(0);
    expect(verifyToken(cfg, Buffer.from('root@pam!b 2222'))).toBe(0);
    expect(verifyToken(cfg, Buffer.from('last 3333'))).toBe(0);
    expect(verifyToken(cfg, Buffer.from('root@pam!a 111'))).toBe(-Errno.ENOENT);
    expect(verifyToken(cfg, Buffer.from('oot@pam!a 1111'))).toBe(-Errno.ENOENT);
    expect(verifyToken(cfg, Buffer.from('root@pam!a 1111\nroot'))).toBe(-Errno.ENOENT);
    expect(verifyToken(undefined, Buffer.from('x'))).toBe(-Errno.ENOENT);
    expect(verifyToken(Buffer.from('ab'), Buffer.from('abc'))).toBe(-Errno.ENOENT);
  });
});
