/**
 * Long mode of the simulation, for on-demand runs: `npm run build && npm run sim:long -- [options]`.
 *   --seconds <n>  time budget (default 300; 0 = no budget, stop after --seeds)
 *   --seeds <n>    number of seeds (default: unlimited within the time budget)
 *   --first <n>    first seed (default: from the clock, printed so the run can be repeated)
 *   --steps <n>    scheduler steps per seed (default 2000)
 * Prints progress every 10 s; stops at the first failing seed, prints it with its replay command
 * and exits 1.
 */
import { describeFailure, runChecked } from './seeds';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} wants a number`);
  return value;
}

async function main(): Promise<number> {
  const seconds = arg('seconds', 300);
  const seeds = arg('seeds', Infinity);
  // The wall clock only picks the first seed (printed); every seed itself is deterministic.
  const first = arg('first', Date.now() % 1_000_000_000);
  const steps = arg('steps', 2000);
  const started = Date.now();
  let lastReport = started;
  let done = 0;
  let forkedAcks = 0;
  let ops = 0;
  const totals = new Map<string, number>();
  console.log(`sim:long first seed ${first}, ${steps} steps per seed, budget ${seconds || '-'} s, seeds ${seeds}`);
  for (let seed = first; done < seeds; seed++) {
    if (seconds > 0 && Date.now() - started >= seconds * 1000) break;
    const result = await runChecked(seed, { steps });
    done++;
    ops += result.stats.ops;
    forkedAcks += result.stats.forkedAcks;
    for (const [k, v] of Object.entries(result.stats)) totals.set(k, (totals.get(k) ?? 0) + v);
    if (result.violations.length > 0) {
      console.log(describeFailure(result, 120));
      return 1;
    }
    const now = Date.now();
    if (now - lastReport >= 10_000) {
      lastReport = now;
      const elapsed = (now - started) / 1000;
      console.log(`${done} seeds (up to ${seed}) in ${elapsed.toFixed(0)} s, ${(done / elapsed).toFixed(1)} seeds/s, ${ops} ops, ${forkedAcks} acknowledged writes lost to forks`);
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  console.log(`ok: ${done} seeds (${first}..${first + done - 1}) x ${steps} steps in ${elapsed.toFixed(1)} s, ${(done / Math.max(elapsed, 0.001)).toFixed(1)} seeds/s, ${ops} ops, ${forkedAcks} acknowledged writes lost to forks (by design)`);
  console.log(`totals: ${[...totals].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
