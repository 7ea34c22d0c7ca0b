/**
 * At most one log line per key and interval, so a peer that sends garbage every few seconds (or a
 * directory that is not writable) cannot flood syslog. The next line after a quiet spell says how
 * many were held back. Time comes in as a parameter (nowMs).
 */
export class RateLimitedLog {
  private last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly nowMs: () => number,
    private readonly maxKeys = 1000,
  ) {}

  /** The line to log now (with the count held back since the last one), or null to stay quiet. */
  line(key: string, msg: string): string | null {
    const now = this.nowMs();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return null;
    }
    if (seen === undefined && this.last.size >= this.maxKeys) this.last.clear();
    const held = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return held > 0 ? `${msg} (${held} similar message${held === 1 ? '' : 's'} suppressed)` : msg;
  }
}
