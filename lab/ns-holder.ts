/**
 * A "namespace holder": a process started through unshare that sets its namespaces up, prints
 * `holder <pid>` and sleeps, so others can nsenter its namespaces by that pid.
 */
import type { ChildProcess } from 'child_process';

/** The shell words that end a holder's setup: announce the pid nsenter needs, then stay. */
export const HOLDER_ANNOUNCE = 'echo "holder $$" && exec sleep infinity';

/** Resolves with the pid the holder announced; rejects when it exits first (with its stderr). */
export function announcedHolderPid(child: ChildProcess, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /holder (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`${what}: namespace holder exited (${code}): ${err}`)));
  });
}
