import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { policyOfChrt, realtimeGrant, rtGroupScheduling } from '../../../lab/realtime';

describe('lab/realtime', () => {
  it('reads the policy and priority from chrt -p', () => {
    expect(policyOfChrt("pid 19's current scheduling policy: SCHED_RR\npid 19's current scheduling priority: 99\n")).toBe('SCHED_RR 99');
    expect(policyOfChrt("pid 7's current scheduling policy: SCHED_OTHER\npid 7's current scheduling priority: 0\n")).toBe('SCHED_OTHER');
    expect(policyOfChrt('chrt: failed to get pid 1 policy: No such process\n')).toBeNull();
  });

  it('asks for no budget where the kernel does not schedule real-time tasks by cgroup', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-cgroup-'));
    try {
      expect(rtGroupScheduling(root)).toBe(false);
      expect(await realtimeGrant(3, () => undefined, root)).toEqual({ capAdd: ['SYS_NICE'], runtimeUs: null });
      fs.writeFileSync(path.join(root, 'cpu.rt_runtime_us'), '950000\n');
      expect(rtGroupScheduling(root)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
