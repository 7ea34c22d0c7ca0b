#!/usr/bin/env node
/**
 * `pmxcfs-ts`: the Proxmox cluster file system daemon (spec §1).
 */
// First: a foreground daemon started without its heap options becomes one with them (execv).
import './daemon/early-reexec';
// Then: V8 tiering options that must be set before the rest of the daemon's code loads.
import './daemon/jit-tiering';
import { closeSync, writeSync } from 'node:fs';
import { daemonize } from './daemon/daemonize';
import { parseArgs, withAbsolutePaths, type DaemonOptions } from './daemon/options';
import { runDaemon, StartupError } from './daemon/start';
import { runStatusCommand } from './cli/status-command';

async function main(argv: string[]): Promise<number> {
  // `pmxcfs-ts status ...`: the operator's health command (the daemon takes no positional argument).
  if (argv[0] === 'status') return runStatusCommand(argv.slice(1));
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`pmxcfs-ts: ${parsed.message}\n`);
    return 255;
  }
  // The daemonized process runs in `/`: relative paths are the caller's, resolved here.
  let o: DaemonOptions;
  try {
    o = withAbsolutePaths(parsed.options, () => process.cwd());
  } catch (e) {
    process.stderr.write(`pmxcfs-ts: cannot resolve a relative path: ${(e as Error).message}\n`);
    return 255;
  }
  if (!o.foreground) return daemonize(__filename, o);
  try {
    await runDaemon(o);
    return 0;
  } catch (e) {
    const msg = e instanceof StartupError ? e.message : ((e as Error).stack ?? String(e));
    // A StartupError was logged already (stderr in the foreground); anything else is a bug.
    if (!(e instanceof StartupError)) process.stderr.write(`pmxcfs-ts: ${msg}\n`);
    if (o.readyFd !== undefined) {
      try {
        writeSync(o.readyFd, `pmxcfs-ts: ${msg}\n`);
        closeSync(o.readyFd);
      } catch {
        // parent gone
      }
    }
    return 255;
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`pmxcfs-ts: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(255);
  },
);
