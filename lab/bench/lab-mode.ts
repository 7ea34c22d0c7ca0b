/**
 * `npm run bench -- --lab`: replicated latency on the Docker lab (issue 4). The place for it: this
 * module gets the lab's node mounts from the lab CLI, runs the same worker operations against one
 * node while reading the result on the others, and reports through report.ts like the local mode.
 */
import type { BenchOptions } from './args';

export async function runLabBench(_options: BenchOptions): Promise<number> {
  process.stderr.write('bench --lab (replicated latency on the Docker lab) is not implemented yet (issue 4)\n');
  return 2;
}
