/**
 * Watches the kernel's CPU pressure (PSI, /proc/pressure/cpu): the share of the last 10 s in which
 * some runnable thread waited for a CPU. The FUSE spin (spin-budget.ts) may be long only while that
 * share is low. Measured here: 4-10 % while one client works a one-node daemon, 37 % on a
 * three-node namespace cluster with corosync at real-time priority.
 */
import { readFile } from 'node:fs';

export const CPU_PRESSURE_FILE = '/proc/pressure/cpu';
/** At or above this share (percent) the CPUs count as busy. */
export const BUSY_CPU_PRESSURE = 20;

/** The `some avg10=` value of a /proc/pressure/cpu text, or null when there is none. */
export function cpuPressureAvg10(text: string): number | null {
  const m = /^some avg10=([0-9]+(?:\.[0-9]+)?)\s/m.exec(text);
  return m === null ? null : Number(m[1]);
}

/**
 * Calls `onSample(roomy)` now and every `periodMs`: roomy when the pressure is below
 * BUSY_CPU_PRESSURE, not roomy when it is above or cannot be read (no PSI in this kernel). Returns
 * a function that stops the watch. The timer does not keep the process alive.
 */
export function watchCpuPressure(onSample: (roomy: boolean) => void, periodMs = 2000, file = CPU_PRESSURE_FILE): () => void {
  let stopped = false;
  const sample = (): void => {
    readFile(file, 'utf8', (err, text) => {
      if (stopped) return;
      const avg10 = err === null ? cpuPressureAvg10(text) : null;
      onSample(avg10 !== null && avg10 < BUSY_CPU_PRESSURE);
    });
  };
  sample();
  const timer = setInterval(sample, periodMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
