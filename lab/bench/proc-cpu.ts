/** CPU time a process has used, from /proc/<pid>/stat (Linux): user + system, in milliseconds. */
import { execFileSync } from 'child_process';
import { readStatFields, statFields } from '../proc-stat';

let ticksPerSecond: number | null = null;

/** The kernel's clock ticks per second for /proc times (getconf CLK_TCK; 100 on Linux in practice). */
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of the text of /proc/<pid>/stat, in ticks. */
export function parseCpuTicks(stat: string): number {
  return cpuTicksOf(statFields(stat));
}

function cpuTicksOf(fields: string[]): number {
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc stat: no utime/stime');
  return utime + stime;
}

/** CPU milliseconds used so far by `pid` (all its threads); null when it is gone. */
export function cpuMs(pid: number): number | null {
  const fields = readStatFields(pid);
  return fields === null ? null : (cpuTicksOf(fields) * 1000) / clockTicks();
}
