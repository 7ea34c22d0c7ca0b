/**
 * Log lines in the reference's syslog style, "[domain] prio: msg", one line per message: to stderr
 * in the foreground, to syslog (libc through koffi) once daemonized. Debug lines only when enabled
 * by -d or `/etc/pve/.debug`.
 */
import type { DebugSwitch } from '../fuse/status-files';

export type LogPriority = 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';

const SYSLOG_PRIORITY: Record<LogPriority, number> = { crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };
const LOG_DAEMON = 3 << 3;

type SyslogFn = (priority: number, format: string, msg: string) => void;

export class Logger implements DebugSwitch {
  private debugOn: boolean;
  private syslogFn: SyslogFn | null = null;
  private toStderr = true;

  constructor(
    private readonly nodename: string,
    debug: boolean,
  ) {
    this.debugOn = debug;
  }

  enabled(): boolean {
    return this.debugOn;
  }

  set(on: boolean): void {
    if (on !== this.debugOn) this.log('main', 'info', `${on ? 'enable' : 'disable'} debug mode`);
    this.debugOn = on;
  }

  /** Switches output to syslog (daemon mode: stderr is /dev/null). */
  useSyslog(): void {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const koffi = require('koffi') as typeof import('koffi');
      const libc = koffi.load('libc.so.6');
      const openlog = libc.func('void openlog(const char *ident, int option, int facility)');
      const syslog = libc.func('void syslog(int priority, const char *format, ...)');
      openlog('pmxcfs', 1 /* LOG_PID */, LOG_DAEMON);
      this.syslogFn = (priority, format, msg) => syslog(priority, format, 'str', msg);
      this.toStderr = false;
    } catch {
      this.toStderr = true;
    }
  }

  log(domain: string, prio: LogPriority, msg: string): void {
    if (prio === 'debug' && !this.debugOn) return;
    const line = `[${domain}] ${prio}: ${msg}`;
    if (this.syslogFn !== null) this.syslogFn(LOG_DAEMON | SYSLOG_PRIORITY[prio], '%s', line);
    if (this.toStderr) process.stderr.write(`${this.nodename} pmxcfs-ts[${process.pid}]: ${line}\n`);
  }
}
