/** /proc/<pid>/stat of a process (Linux), split into the fields after its name. */
import * as fs from 'fs';

/**
 * The fields after `(comm)` of a /proc/<pid>/stat text: [0] is the state, [11]/[12] utime/stime,
 * [19] the start time (proc(5) numbers them from 3). The name may hold spaces and parentheses.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The fields of a live process's stat file; null when it is gone. */
export function readStatFields(pid: number): string[] | null {
  try {
    return statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}
