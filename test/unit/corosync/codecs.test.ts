import { describe, expect, it } from 'vitest';
import { CsError, csCheck, csErrorName } from '../../../src/corosync/cs-error';
import { CmapType, decodeCmapValue } from '../../../src/corosync/libcmap';
import { CPG_NAME_SIZE, decodeCpgAddresses, encodeCpgName } from '../../../src/corosync/libcpg';
import { OncePerStateLog } from '../../../src/corosync/log';

describe('struct cpg_name', () => {
  it('counts the NUL in the length (spec §4)', () => {
    const dcdb = encodeCpgName('pve_dcdb_v1');
    expect(dcdb.length).toBe(CPG_NAME_SIZE);
    expect(dcdb.readUInt32LE(0)).toBe(12);
    expect(dcdb.toString('latin1', 4, 15)).toBe('pve_dcdb_v1');
    expect(dcdb[15]).toBe(0);
    expect(encodeCpgName('pve_kvstore_v1').readUInt32LE(0)).toBe(15);
  });

  it('refuses names that do not fit or are not C strings', () => {
    expect(encodeCpgName('x'.repeat(127)).readUInt32LE(0)).toBe(128);
    expect(() => encodeCpgName('x'.repeat(128))).toThrow(RangeError);
    expect(() => encodeCpgName('')).toThrow(RangeError);
    expect(() => encodeCpgName('a\0b')).toThrow(RangeError);
  });
});

describe('struct cpg_address lists', () => {
  it('decodes nodeid, pid, reason in host (little-endian) order', () => {
    const bytes = Buffer.alloc(24);
    bytes.writeUInt32LE(1, 0);
    bytes.writeUInt32LE(4242, 4);
    bytes.writeUInt32LE(1, 8);
    bytes.writeUInt32LE(0xfffffffe, 12);
    bytes.writeUInt32LE(7, 16);
    bytes.writeUInt32LE(3, 20);
    expect(decodeCpgAddresses(bytes, 2)).toEqual([
      { nodeid: 1, pid: 4242, reason: 1 },
      { nodeid: 0xfffffffe, pid: 7, reason: 3 },
    ]);
    expect(decodeCpgAddresses(Buffer.alloc(0), 0)).toEqual([]);
  });

  it('refuses a list shorter than its count', () => {
    expect(() => decodeCpgAddresses(Buffer.alloc(23), 2)).toThrow(RangeError);
  });
});

describe('cmap values', () => {
  const le = (write: (b: Buffer) => void, n: number) => {
    const b = Buffer.alloc(n);
    write(b);
    return b;
  };

  it('decodes every integer width, floats and strings', () => {
    expect(decodeCmapValue(CmapType.INT8, Buffer.from([0xff]))).toBe(-1);
    expect(decodeCmapValue(CmapType.UINT8, Buffer.from([0xff]))).toBe(255);
    expect(decodeCmapValue(CmapType.INT16, le((b) => b.writeInt16LE(-2), 2))).toBe(-2);
    expect(decodeCmapValue(CmapType.UINT16, le((b) => b.writeUInt16LE(65535), 2))).toBe(65535);
    expect(decodeCmapValue(CmapType.INT32, le((b) => b.writeInt32LE(-3), 4))).toBe(-3);
    expect(decodeCmapValue(CmapType.UINT32, le((b) => b.writeUInt32LE(4000000000), 4))).toBe(4000000000);
    expect(decodeCmapValue(CmapType.INT64, le((b) => b.writeBigInt64LE(-5n), 8))).toBe(-5n);
    expect(decodeCmapValue(CmapType.UINT64, le((b) => b.writeBigUInt64LE(2n ** 63n), 8))).toBe(2n ** 63n);
    expect(decodeCmapValue(CmapType.FLOAT, le((b) => b.writeFloatLE(1.5), 4))).toBe(1.5);
    expect(decodeCmapValue(CmapType.DOUBLE, le((b) => b.writeDoubleLE(0.25), 8))).toBe(0.25);
    expect(decodeCmapValue(CmapType.STRING, Buffer.from('node1\0'))).toBe('node1');
    expect(decodeCmapValue(CmapType.STRING, Buffer.from('node1'))).toBe('node1');
    expect(decodeCmapValue(CmapType.BINARY, Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
  });

  it('returns an error for a wrong length or an unknown type', () => {
    expect(decodeCmapValue(CmapType.UINT32, Buffer.alloc(3))).toBeInstanceOf(Error);
    expect(decodeCmapValue(CmapType.UINT64, Buffer.alloc(4))).toBeInstanceOf(Error);
    expect(decodeCmapValue(99, Buffer.alloc(4))).toBeInstanceOf(Error);
  });
});

describe('cs_error_t', () => {
  it('names codes and turns them into results', () => {
    expect(csErrorName(2)).toBe('CS_ERR_LIBRARY');
    expect(csErrorName(6)).toBe('CS_ERR_TRY_AGAIN');
    expect(csErrorName(29)).toBe('CS_ERR_29');
    expect(csCheck(CsError.OK)).toEqual({ ok: true, value: undefined });
    expect(csCheck(CsError.ERR_TRY_AGAIN)).toEqual({ ok: false, error: 6 });
  });
});

describe('OncePerStateLog', () => {
  it('logs a repeated problem once, and again after clear() or another problem', () => {
    const lines: string[] = [];
    const log = new OncePerStateLog((_level, message) => lines.push(message));
    log.problem('warning', 'cpg_initialize failed: CS_ERR_LIBRARY');
    log.problem('warning', 'cpg_initialize failed: CS_ERR_LIBRARY');
    log.problem('warning', 'cpg_join failed: CS_ERR_EXIST');
    log.clear();
    log.problem('warning', 'cpg_join failed: CS_ERR_EXIST');
    expect(lines).toEqual([
      'cpg_initialize failed: CS_ERR_LIBRARY',
      'cpg_join failed: CS_ERR_EXIST',
      'cpg_join failed: CS_ERR_EXIST',
    ]);
  });
});
