/** How the corosync shell reports what happens to it; the daemon passes its own logger. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export const stderrLogger: Logger = (level, message) => {
  process.stderr.write(`[${level}] ${message}\n`);
};

/**
 * Logs a problem once, not once per retry: the same message again is dropped until clear() is
 * called (the service recovered) or a different problem is reported.
 */
export class OncePerStateLog {
  private last: string | null = null;

  constructor(private readonly log: Logger) {}

  problem(level: LogLevel, message: string): void {
    if (message === this.last) return;
    this.last = message;
    this.log(level, message);
  }

  clear(): void {
    this.last = null;
  }
}
