/**
 * The daemon's heap options (DAEMON_NODE_OPTIONS, v8-flags.ts) however it is started (issue 10,
 * memory). V8 sizes its young generation when the process starts, so the options cannot be set
 * from inside; the service, the packaged wrapper, daemonize and the lab give them on the command
 * line, but `node dist/src/main.js -f ...` does not, and there 10,000 guest configs cost twice the
 * memory (measured: 2.7-3.0 KiB per guest against 1.3-1.4 KiB). So a foreground daemon started
 * without them replaces itself once with execv(2): the same process (pid, open descriptors,
 * environment, controlling terminal) running the same command line with the options added. When
 * execv is not possible the daemon carries on as it was started.
 */
import { lazyLibrary } from '../corosync/koffi-types';
import { DAEMON_NODE_OPTIONS } from './v8-flags';

const F_SETFD = 2;

const libc = lazyLibrary('libc.so.6', (lib) => ({
  execv: lib.func('int execv(const char *path, const char **argv)') as (path: string, argv: (string | null)[]) => number,
  fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number,
}));

/** The option's name: "--max-semi-space-size=1" -> "--max-semi-space-size" (V8 treats _ and - alike). */
function optionName(option: string): string {
  const eq = option.indexOf('=');
  return (eq < 0 ? option : option.slice(0, eq)).replace(/_/g, '-');
}

/**
 * The daemon options not given on the node command line or in NODE_OPTIONS (an option given
 * there with another value counts as given: the operator's choice stands).
 */
export function missingNodeOptions(execArgv: readonly string[], nodeOptions: string | undefined,
  wanted: readonly string[] = DAEMON_NODE_OPTIONS): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(optionName));
  return wanted.filter((o) => !given.has(optionName(o)));
}

/** The argv of the re-executed process: node, the missing options, node's own options, the script and its arguments. */
export function reexecArgv(execPath: string, missing: readonly string[], execArgv: readonly string[],
  script: string, args: readonly string[]): string[] {
  return [execPath, ...missing, ...execArgv, script, ...args];
}

/**
 * Re-executes this process with the missing options; returns only when that did not happen, with
 * null when nothing is missing or the reason for a log line when execv failed. It happens at most
 * once: the new image has the options in its execArgv, so nothing is missing there.
 */
export function reexecWithNodeOptions(script: string, args: readonly string[], keepFds: readonly number[] = []): string | null {
  const missing = missingNodeOptions(process.execArgv, process.env['NODE_OPTIONS']);
  if (missing.length === 0) return null;
  const argv = reexecArgv(process.execPath, missing, process.execArgv, script, args);
  try {
    const { execv, fcntl } = libc();
    // Node marks its stdio close-on-exec; the new image must get the same stdio (and `keepFds`).
    for (const fd of [0, 1, 2, ...keepFds]) fcntl(fd, F_SETFD, 0);
    execv(process.execPath, [...argv, null]);
    return `execv ${process.execPath} failed; running without ${missing.join(' ')}`;
  } catch (err) {
    return `cannot re-execute with ${missing.join(' ')}: ${(err as Error).message}`;
  }
}
