/**
 * GET_GUEST_CONFIG_PROPERTY / GET_GUEST_CONFIG_PROPERTIES (spec §10): the fast scan of guest
 * configs for top-level properties, with the reference's exact rules and output bytes:
 * - only lines before the first line starting with `[` (snapshots, pending) are looked at;
 * - a line matches `<prop>:` at column 0 and needs at least one byte after the colon;
 * - the value is the rest of the line with leading and trailing whitespace (C isspace) removed,
 *   except that a value of only whitespace keeps its last whitespace byte (the reference's loop
 *   stops one byte early); an embedded NUL ends the value (C strings);
 * - a later match replaces an earlier one, but the scan stops after the line on which the count
 *   of repeated matches (a property found again) reaches the number of properties asked for;
 * - a config without a trailing newline gets one; lines after the last newline do not exist.
 * Output: `{\n` + `"<vmid>":{"<p1>": "<v1>","<p2>": "<v2>"}` joined by `,\n` + `\n}\n`; values
 * escape only `"` and `\`; guests without any match are left out.
 * Pure.
 */
import { Errno } from '../memdb/errno';

const NEWLINE = 0x0a;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** C isspace in the C locale. */
function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/** The value of `prop` on one line (line = bytes without its newline), or undefined. */
function valueOnLine(conf: Buffer, start: number, end: number, prop: Buffer): Buffer | undefined {
  const lineLen = end - start;
  if (lineLen <= prop.length + 1) return undefined;
  if (conf[start + prop.length] !== COLON || conf.compare(prop, 0, prop.length, start, start + prop.length) !== 0) return undefined;
  const last = end - 1;
  let from = start + prop.length + 1;
  while (from < last && conf[from] !== 0 && isSpace(conf[from]!)) from++;
  if (conf[from] === 0) return undefined;
  let to = last;
  while (to > from && isSpace(conf[to]!)) to--;
  // The reference prints the value as a C string: an embedded NUL ends it.
  let stop = from;
  while (stop <= to && conf[stop] !== 0) stop++;
  return conf.subarray(from, stop);
}

/**
 * The values of `props` in one config (index-aligned with `props`; undefined = not found).
 * The multi-property request guarantees names starting with a-z; the one-property request does not
 * check, and any name is scanned as the reference would.
 */
export function scanGuestProperties(config: Buffer, props: readonly Buffer[]): (Buffer | undefined)[] {
  const found: (Buffer | undefined)[] = props.map(() => undefined);
  if (config.length === 0 || props.length === 0) return found;
  let min = 0x7a;
  let max = 0x61;
  for (const p of props) {
    const first = p.length > 0 ? p[0]! : 0; // an empty name is a C string's NUL
    if (first > max) max = first;
    if (first < min) min = first;
  }
  let repeated = 0;
  let start = 0;
  for (;;) {
    const nl = config.indexOf(NEWLINE, start);
    if (nl < 0) break; // bytes after the last newline are not a line (see guestConfigText)
    const first = config[start]!;
    if (nl > start && first !== 0) {
      if (first === OPEN_BRACKET) break;
      if (first >= min && first <= max) {
        for (let i = 0; i < props.length; i++) {
          const value = valueOnLine(config, start, nl, props[i]!);
          if (value === undefined) continue;
          if (found[i] !== undefined) repeated = (repeated + 1) & 0xff;
          found[i] = value;
        }
        if (repeated === props.length) break;
      }
    }
    start = nl + 1;
  }
  return found;
}

/** The config as the scan sees it: with a newline appended when it does not end with one. */
export function guestConfigText(data: Buffer): Buffer {
  if (data.length === 0 || data[data.length - 1] === NEWLINE) return data;
  return Buffer.concat([data, Buffer.from([NEWLINE])]);
}

function escapeValue(value: Buffer): Buffer {
  let extra = 0;
  for (const b of value) if (b === QUOTE || b === BACKSLASH) extra++;
  if (extra === 0) return value;
  const out = Buffer.alloc(value.length + extra);
  let j = 0;
  for (const b of value) {
    if (b === QUOTE || b === BACKSLASH) out[j++] = BACKSLASH;
    out[j++] = b;
  }
  return out;
}

/** `"<vmid>":{"p1": "v1","p2": "v2"}` for the found values, or undefined when none was found. */
function guestObject(vmid: number, props: readonly Buffer[], values: readonly (Buffer | undefined)[]): Buffer | undefined {
  const parts: Buffer[] = [];
  for (let i = 0; i < props.length; i++) {
    const v = values[i];
    if (v === undefined) continue;
    parts.push(Buffer.from(parts.length === 0 ? `"${vmid >>> 0}":{"` : ',"', 'latin1'), props[i]!, Buffer.from('": "', 'latin1'), escapeValue(v), Buffer.from('"', 'latin1'));
  }
  if (parts.length === 0) return undefined;
  parts.push(Buffer.from('}', 'latin1'));
  return Buffer.concat(parts);
}

/** What the property reply needs of the tree. */
export interface GuestConfigSource {
  /** Registered guests in the order they are printed. */
  guestIds(): number[];
  isGuest(vmid: number): boolean;
  /** The guest's config bytes; undefined when missing or empty (the reference's NULL read). */
  guestConfig(vmid: number): Buffer | undefined;
}

/**
 * The reply body for `vmid` (0 = every guest) and `props`, or a negative errno: -ENOENT for an
 * unknown guest, -EIO when a single guest's config cannot be read (missing or empty).
 */
export function guestPropertiesReply(source: GuestConfigSource, vmid: number, props: readonly Buffer[]): Buffer | number {
  const objects: Buffer[] = [];
  const ids = source.guestIds();
  if (ids.length > 0) {
    if (vmid >= 100) {
      if (!source.isGuest(vmid)) return -Errno.ENOENT;
      const data = source.guestConfig(vmid);
      if (data === undefined) return -Errno.EIO;
      const obj = guestObject(vmid, props, scanGuestProperties(guestConfigText(data), props));
      if (obj !== undefined) objects.push(obj);
    } else {
      for (const id of ids) {
        const data = source.guestConfig(id);
        if (data === undefined) continue;
        const obj = guestObject(id, props, scanGuestProperties(guestConfigText(data), props));
        if (obj !== undefined) objects.push(obj);
      }
    }
  }
  const sep = Buffer.from(',\n', 'latin1');
  const body: Buffer[] = [Buffer.from('{\n', 'latin1')];
  objects.forEach((o, i) => {
    if (i > 0) body.push(sep);
    body.push(o);
  });
  body.push(Buffer.from('\n}\n', 'latin1'));
  return Buffer.concat(body);
}
