/**
 * Imported first by main.ts, before the daemon's modules load: a foreground daemon run without the
 * heap options re-executes itself with them now (heap-options.ts), so the modules are loaded once.
 */
import { parseArgs } from './options';
import { reexecWithNodeOptions } from './heap-options';

const args = process.argv.slice(2);
const script = process.argv[1];
if (args[0] !== 'status' && script !== undefined) {
  const parsed = parseArgs(args);
  if (parsed.kind === 'run' && parsed.options.foreground) {
    const keep = parsed.options.readyFd === undefined ? [] : [parsed.options.readyFd];
    const notReexecuted = reexecWithNodeOptions(script, args, keep);
    if (notReexecuted !== null) process.stderr.write(`pmxcfs-ts: notice: ${notReexecuted}\n`);
  }
}
