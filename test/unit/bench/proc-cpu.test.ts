import { describe, expect, it } from 'vitest';
import { cpuMs, parseCpuTicks } from '../../../lab/bench/proc-cpu';

describe('bench/proc-cpu', () => {
  it('adds utime and stime, also when the process name holds spaces and parentheses', () => {
    const stat = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 7 0 12345 1000000 500 18446744073709551615';
    expect(parseCpuTicks(stat)).toBe(325);
  });

  it('agrees with the CPU time Node counts for this process', () => {
    const a = cpuMs(process.pid)!;
    const start = process.cpuUsage();
    let x = 0;
    // Busy until Node says 80 ms of CPU were used (however long that takes on a loaded machine).
    for (;;) {
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
      const u = process.cpuUsage(start);
      if (u.user + u.system >= 80_000) break;
    }
    const used = cpuMs(process.pid)! - a;
    expect(x).toBeGreaterThan(0);
    // /proc counts in clock ticks (10 ms): allow two ticks each side.
    expect(used).toBeGreaterThanOrEqual(60);
    expect(used).toBeLessThan(80 + 1000);
  });

  it('is null for a process that does not exist', () => {
    expect(cpuMs(2 ** 30)).toBeNull();
  });
});
