import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_SPIN_NANOS, SpinBudget, spinBudgetFromMicros } from '../../../src/fuse/kernel/spin-budget';
import { BUSY_CPU_PRESSURE, cpuPressureAvg10, watchCpuPressure } from '../../../src/fuse/kernel/cpu-pressure';

const US = 1000;

function roomyBudget(): SpinBudget {
  const b = new SpinBudget(200 * US, 25 * US);
  b.limit(true);
  return b;
}

describe('FUSE spin budget', () => {
  it('starts at the minimum until the CPUs are known to have room, then at the maximum', () => {
    const b = new SpinBudget(200 * US, 25 * US);
    expect(b.nanos).toBe(25 * US);
    b.arrived(100 * US); // no room: the gap does not lengthen the spin
    expect(b.nanos).toBe(25 * US);
    b.limit(true);
    expect(b.nanos).toBe(200 * US);
  });

  it('halves after each spin that found no request, down to the minimum', () => {
    const b = roomyBudget();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      b.ranOut();
      seen.push(b.nanos / US);
    }
    expect(seen).toEqual([100, 50, 25, 25, 25, 25]);
  });

  it('follows the client: four times the gap a request came after, within the minimum and the maximum', () => {
    const b = roomyBudget();
    b.arrived(5 * US); // a synchronous client: its next request 5 µs after the reply
    expect(b.nanos).toBe(25 * US);
    b.limit(true); // still roomy: a new sample does not undo what the client showed
    expect(b.nanos).toBe(25 * US);
    b.arrived(40 * US); // a thread-pool client
    expect(b.nanos).toBe(160 * US);
    b.arrived(90 * US);
    expect(b.nanos).toBe(200 * US);
  });

  it('a request after a spin ran out sets the budget only if a spin to the ceiling would have caught it', () => {
    const b = roomyBudget();
    for (let i = 0; i < 4; i++) b.ranOut();
    expect(b.nanos).toBe(25 * US);
    b.arrivedLate(2_000_000 * US); // two seconds later: a sparse caller, leave the minimum
    expect(b.nanos).toBe(25 * US);
    b.arrivedLate(200 * US); // not within the maximum either
    expect(b.nanos).toBe(25 * US);
    b.arrivedLate(45 * US); // a thread-pool client after a pause: caught again from its next request
    expect(b.nanos).toBe(180 * US);
  });

  it('busy CPUs cut the budget to the minimum at once, and room again restores the maximum', () => {
    const b = roomyBudget();
    b.arrived(50 * US);
    expect(b.nanos).toBe(200 * US);
    b.limit(false);
    expect(b.nanos).toBe(25 * US);
    b.arrivedLate(45 * US);
    expect(b.nanos).toBe(25 * US);
    b.limit(true);
    expect(b.nanos).toBe(200 * US);
  });

  it('is built from microseconds with a 25 µs floor, lower only when the maximum is lower, and 0 turns it off', () => {
    const b = spinBudgetFromMicros(200);
    expect([b.maxNanos, b.minNanos]).toEqual([200 * US, MIN_SPIN_NANOS]);
    const low = spinBudgetFromMicros(10);
    expect([low.maxNanos, low.minNanos]).toEqual([10 * US, 10 * US]);
    const off = spinBudgetFromMicros(0);
    off.limit(true);
    off.ranOut();
    off.arrived(50 * US);
    off.arrivedLate(50 * US);
    expect(off.nanos).toBe(0);
    expect(spinBudgetFromMicros(-5).nanos).toBe(0);
  });
});

describe('CPU pressure', () => {
  it('reads the some avg10 share of /proc/pressure/cpu', () => {
    expect(cpuPressureAvg10('some avg10=37.09 avg60=22.82 avg300=30.79 total=15543982530\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n')).toBe(37.09);
    expect(cpuPressureAvg10('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n')).toBe(0);
    expect(cpuPressureAvg10('')).toBeNull();
    expect(cpuPressureAvg10('full avg10=3.00 avg60=0.00 avg300=0.00 total=0\n')).toBeNull();
  });

  it('reports room below the threshold, none at or above it, and none when the file cannot be read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psi-'));
    try {
      const sampleOf = (file: string): Promise<boolean> =>
        new Promise((resolve) => {
          const stop = watchCpuPressure((roomy) => {
            stop();
            resolve(roomy);
          }, 60_000, file);
        });
      const write = (avg10: number): string => {
        const f = path.join(dir, `cpu-${avg10}`);
        fs.writeFileSync(f, `some avg10=${avg10.toFixed(2)} avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`);
        return f;
      };
      expect(await sampleOf(write(4))).toBe(true);
      expect(await sampleOf(write(BUSY_CPU_PRESSURE))).toBe(false);
      expect(await sampleOf(write(37.09))).toBe(false);
      expect(await sampleOf(path.join(dir, 'missing'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
