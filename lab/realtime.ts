// Corosync at real-time priority in lab containers, as on a real host (`corosyncRealtime`).
//
// Started as root on a host, corosync runs every thread at SCHED_RR 99. In a container it cannot
// unless it has CAP_SYS_NICE and, on a kernel with RT group scheduling (cgroup v1 `cpu` controller
// with cpu.rt_runtime_us), a real-time budget of its own. Without them it runs SCHED_OTHER, and a
// busy ring then costs far less CPU: on a 2-core machine pmxcfs-ts's replicated writes were twice as
// fast in the lab as in the namespace cluster (docs/benchmarks.md). With this option the lab
// schedules corosync the way a host does.
import * as fs from 'fs';
import * as path from 'path';
import { engine } from './dockerode-client';

/** The cgroup v1 cpu hierarchy; its root has cpu.rt_runtime_us only with RT group scheduling. */
const CPU_CGROUP = '/sys/fs/cgroup/cpu';
/** Real-time µs per second the engine's cgroup gets when it has none (what `dockerd --cpu-rt-runtime=900000` sets). */
export const ENGINE_RT_BUDGET_US = 900_000;
/** The period the budgets are given for. */
export const RT_PERIOD_US = 1_000_000;

/** What a node container needs for SCHED_RR: the capability, and a budget where the kernel asks for one. */
export interface RealtimeGrant {
  capAdd: string[];
  /** µs per RT_PERIOD_US, or null when the kernel has no RT group scheduling (the capability is enough). */
  runtimeUs: number | null;
}

export class RealtimeError extends Error {}

function readInt(file: string): number | null {
  try {
    const v = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** True when real-time tasks need a budget in their cgroup (cgroup v1 with RT group scheduling). */
export function rtGroupScheduling(root = CPU_CGROUP): boolean {
  return readInt(path.join(root, 'cpu.rt_runtime_us')) !== null;
}

/** The engine's parent cgroup in the cpu hierarchy (cgroupfs driver: /docker); null for the systemd driver. */
async function engineCgroup(root: string): Promise<string | null> {
  const info = (await engine().info()) as { CgroupDriver?: string; CgroupVersion?: string };
  if (info.CgroupDriver !== 'cgroupfs') return null;
  return path.join(root, 'docker');
}

/**
 * Makes sure the engine's cgroup can hand each of `containers` containers a real-time budget and
 * returns what every node container needs. The engine's cgroup gets ENGINE_RT_BUDGET_US when it has
 * less (a host setting, logged; dockerd's --cpu-rt-runtime sets the same): it only allows children
 * to ask for real-time time and changes nothing for anything else.
 */
export async function realtimeGrant(containers: number, log: (line: string) => void, root = CPU_CGROUP): Promise<RealtimeGrant> {
  const capAdd = ['SYS_NICE'];
  if (!rtGroupScheduling(root)) return { capAdd, runtimeUs: null };
  const parent = await engineCgroup(root);
  const budgetFile = parent === null ? null : path.join(parent, 'cpu.rt_runtime_us');
  const budget = budgetFile === null ? null : readInt(budgetFile);
  if (budgetFile === null || budget === null) {
    throw new RealtimeError('corosync at real-time priority needs the Docker engine to give containers a real-time budget: ' +
      `this kernel schedules real-time tasks by cgroup and the engine's cgroup was not found; start dockerd with --cpu-rt-runtime=${ENGINE_RT_BUDGET_US}`);
  }
  if (budget < ENGINE_RT_BUDGET_US) {
    try {
      fs.writeFileSync(budgetFile, String(ENGINE_RT_BUDGET_US));
      log(`gave the Docker engine's cgroup a real-time budget of ${ENGINE_RT_BUDGET_US} µs/s (${budgetFile}, was ${budget})`);
    } catch (e) {
      throw new RealtimeError(`corosync at real-time priority: cannot give ${budgetFile} a real-time budget (${(e as Error).message}); ` +
        `start dockerd with --cpu-rt-runtime=${ENGINE_RT_BUDGET_US}`);
    }
  }
  return { capAdd, runtimeUs: Math.floor(Math.max(budget, ENGINE_RT_BUDGET_US) / Math.max(1, containers)) };
}

/** "SCHED_RR 99" from what `chrt -p PID` prints; null when it printed no policy. */
export function policyOfChrt(out: string): string | null {
  const policy = /scheduling policy:\s*(\S+)/.exec(out)?.[1];
  if (policy === undefined) return null;
  const priority = /scheduling priority:\s*(\d+)/.exec(out)?.[1];
  return priority !== undefined && priority !== '0' ? `${policy} ${priority}` : policy;
}
