/**
 * `.rrd` (spec §8.4, also IPC op 10): one `<key>:<data>` line per RRD key updated in the last 300 s.
 */

export interface RrdSampleView {
  /** Key without the `rrd/` prefix, e.g. `pve2-node/node1`. */
  key: string;
  /** The value as sent, without its terminating NUL. */
  data: string;
  /** Local receive time (seconds). */
  time: number;
}

/** Samples older than this many seconds (strictly) are not shown. */
export const RRD_SAMPLE_MAX_AGE = 300;

/** Text of the dump (what the FUSE file shows). `now` in seconds. */
export function renderRrdDump(samples: Iterable<RrdSampleView>, now: number): string {
  let out = '';
  for (const s of samples) {
    if (now - s.time > RRD_SAMPLE_MAX_AGE) continue;
    out += `${s.key}:${s.data}\n`;
  }
  return out;
}

/** The IPC reply: the dump text plus one NUL byte (so the reply is never empty). */
export function rrdDumpIpcPayload(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(body.length + 1);
  body.copy(out);
  return out;
}
