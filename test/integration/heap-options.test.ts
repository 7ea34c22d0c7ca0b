/**
 * A foreground daemon started as `node main.js -f ...` without its heap options becomes, in the same
 * process, one with them (src/daemon/heap-options.ts); one started with them, or with the operator's
 * own value, is left as it was started.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonHandle, MAIN_JS, cleanup, startDaemon, stopDaemon } from './daemon-harness';

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');

describe('heap options', () => {
  let d: DaemonHandle | undefined;
  afterEach(async () => {
    await cleanup(d);
    d = undefined;
  });

  it('started without them: the same pid now runs with --max-semi-space-size=1 and serves the mount', async () => {
    d = await startDaemon();
    const pid = d.proc.pid!;
    const argv = cmdline(pid);
    expect(argv[1]).toBe('--max-semi-space-size=1');
    expect(argv.slice(2)).toEqual([MAIN_JS, '-f', '-l', '--mount', d.mnt, '--db', d.db, '--nodename', 'node1']);
    expect(readFileSync(`${d.mnt}/.version`, 'utf8')).toContain('"starttime"');
    expect(await stopDaemon(d)).toBe(0);
  });

  it('an operator\'s own value stands: no second option, no re-execution', async () => {
    d = await startDaemon({ env: { NODE_OPTIONS: '--max-semi-space-size=4' } });
    const argv = cmdline(d.proc.pid!);
    expect(argv.some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
    expect(await stopDaemon(d)).toBe(0);
  });
});
