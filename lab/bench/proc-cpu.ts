/** CPU time a process has used, from /proc/<pid>/stat (Linux): user + system, in milliseconds. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';

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

/** utime + stime of the text of /proc/<pid>/stat, in ticks (the name in parentheses may hold spaces). */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc stat: no utime/stime');
  return utime + stime;
}

/** CPU milliseconds used so far by `pid` (all its threads); null when it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    return (parseCpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicks();
  } catch {
    return null;
  }
}
