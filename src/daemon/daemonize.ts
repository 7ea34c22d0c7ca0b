/**
 * Without -f the command daemonizes (spec §1): it starts itself again detached, in `/`, with its
 * options (paths already absolute), -f and an internal --ready-fd, waits for the byte '1' on that
 * pipe (anything else is the child's error text), writes the pid file and exits 0 (also when the
 * pid file cannot be written, like the reference, with a warning: the daemon is running).
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pidFilePath, writePidFile } from './pidfile';
import { toArgv, type DaemonOptions } from './options';
import { DAEMON_NODE_OPTIONS } from './v8-flags';

/** Resolves to the exit status of the parent: 0 when the daemon is up. */
export function daemonize(script: string, o: DaemonOptions): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, script, ...toArgv(o), '-f', '--ready-fd', '3'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      cwd: '/',
    });
    const pipe = child.stdio[3] as Readable;
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (status: number, message?: string): void => {
      if (done) return;
      done = true;
      if (message) process.stderr.write(`${message}\n`);
      pipe.destroy();
      child.unref();
      resolve(status);
    };
    pipe.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received[0] === 0x31) {
        try {
          writePidFile(pidFilePath(o.db), child.pid!);
        } catch (e) {
          // As the reference: the daemon is up and stays up; only the pid file is missing.
          return finish(0, `pmxcfs-ts: warning: unable to write pid file (daemon pid ${child.pid}): ${(e as Error).message}`);
        }
        finish(0);
      }
    });
    pipe.on('close', () => {
      const text = received.toString('utf8').trim();
      finish(255, text !== '' ? text : 'pmxcfs-ts: daemon failed to start (see syslog)');
    });
    child.on('error', (e) => finish(255, `unable to start daemon: ${e.message}`));
  });
}
