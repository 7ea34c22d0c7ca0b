/** Per-process I/O counters from /proc/<pid>/io (Linux). */
import * as fs from 'fs';

export interface ProcIo {
  rchar: number;
  wchar: number;
  readBytes: number;
  /** Bytes this process caused to be sent to storage: counted when a page cache page turns dirty. */
  writeBytes: number;
  cancelledWriteBytes: number;
}

/** Parses the text of /proc/<pid>/io; throws on a missing field (the kernel always prints all). */
export function parseProcIo(text: string): ProcIo {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(\d+)$/.exec(line.trim());
    if (m) fields.set(m[1]!, Number(m[2]));
  }
  const get = (name: string): number => {
    const v = fields.get(name);
    if (v === undefined) throw new Error(`/proc io: field ${name} missing`);
    return v;
  };
  return {
    rchar: get('rchar'),
    wchar: get('wchar'),
    readBytes: get('read_bytes'),
    writeBytes: get('write_bytes'),
    cancelledWriteBytes: get('cancelled_write_bytes'),
  };
}

/** Reading another process's io file needs the same uid or root (ptrace read access). */
export function readProcIo(pid: number | 'self'): ProcIo {
  return parseProcIo(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
}
