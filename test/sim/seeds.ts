/**
 * Running many seeds and reporting a failure in a form that replays: shared by the vitest files
 * and the long mode.
 */
import { replayCommand, runSeed, type SimResult } from './simulation';

export interface SeedRunOptions {
  steps: number;
  faults?: boolean;
}

/** The failure report for a seed: what broke, how to replay, and the end of the trace. */
export function describeFailure(result: SimResult, traceLines = 60): string {
  const lines = [
    `simulation seed ${result.seed} (${result.nodes} nodes, ${result.steps} steps) broke ${result.violations.length} invariant(s):`,
    ...result.violations.map((v) => `  [step ${v.step}] ${v.kind}: ${v.detail}`),
    `replay: ${replayCommand(result.seed, result.steps)}`,
  ];
  if (result.trace.length > 0) lines.push('trace (last lines):', ...result.trace.slice(-traceLines).map((l) => `  ${l}`));
  return lines.join('\n');
}

/** Run one seed; when it fails, run it again with the trace kept so the report can show it. */
export async function runChecked(seed: number, options: SeedRunOptions): Promise<SimResult> {
  const result = await runSeed({ seed, steps: options.steps, faults: options.faults ?? true });
  if (result.violations.length === 0) return result;
  return runSeed({ seed, steps: options.steps, faults: options.faults ?? true, keepTrace: true });
}
