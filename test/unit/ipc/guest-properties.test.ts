import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import {
  guestConfigText,
  guestPropertiesReply,
  scanGuestProperties,
  type GuestConfigSource,
} from '../../../src/ipc/guest-properties';

const b = (s: string) => Buffer.from(s, 'latin1');
const scan = (conf: string, ...props: string[]) =>
  scanGuestProperties(guestConfigText(b(conf)), props.map(b)).map((v) => (v === undefined ? undefined : v.toString('latin1')));

function source(configs: Record<number, string | undefined>): GuestConfigSource {
  return {
    guestIds: () => Object.keys(configs).map(Number).sort((x, y) => x - y),
    isGuest: (vmid) => vmid in configs,
    guestConfig: (vmid) => {
      const c = configs[vmid];
      return c === undefined || c === '' ? undefined : b(c);
    },
  };
}
const reply = (src: GuestConfigSource, vmid: number, ...props: string[]) => {
  const r = guestPropertiesReply(src, vmid, props.map(b));
  return typeof r === 'number' ? r : r.toString('latin1');
};

describe('guest property scan (spec §10)', () => {
  it('matches <prop>: at column 0 and trims the value', () => {
    expect(scan('name: vm1\nmemory: 512\n', 'name')).toEqual(['vm1']);
    expect(scan('name:\t  spaced value \t\r\n', 'name')).toEqual(['spaced value']);
    expect(scan(' name: indented\n', 'name')).toEqual([undefined]);
    expect(scan('names: other\nname2: x\n', 'name')).toEqual([undefined]);
    expect(scan('name:x\n', 'name')).toEqual(['x']);
  });

  it('needs a byte after the colon; a whitespace-only value keeps one byte (as the reference)', () => {
    expect(scan('name:\n', 'name')).toEqual([undefined]);
    expect(scan('name: \n', 'name')).toEqual([' ']);
    expect(scan('name:   \n', 'name')).toEqual([' ']);
  });

  it('only scans before the first line starting with [', () => {
    expect(scan('memory: 1\n[snap1]\nname: old\n', 'name')).toEqual([undefined]);
    expect(scan('name: cur\n[PENDING]\nname: pending\n', 'name')).toEqual(['cur']);
    expect(scan('name: a\n [x]\nname: b\n', 'name')).toEqual(['b']);
  });

  it('a later line replaces an earlier one, until the repeat count reaches the number of props', () => {
    expect(scan('name: a\nname: b\n', 'name')).toEqual(['b']);
    // one property: the scan stops at its second occurrence
    expect(scan('name: a\nname: b\nname: c\n', 'name')).toEqual(['b']);
    // two properties: two repeats (of any of them) end the scan
    expect(scan('name: a\nname: b\nname: c\nlock: x\n', 'name', 'lock')).toEqual(['c', undefined]);
    expect(scan('lock: x\nname: a\nname: b\nlock: y\nname: c\n', 'name', 'lock')).toEqual(['b', 'y']);
  });

  it('a config without a final newline gets one; an empty config has nothing', () => {
    expect(scan('memory: 1\nname: last', 'name')).toEqual(['last']);
    expect(scan('', 'name')).toEqual([undefined]);
    expect(scanGuestProperties(b('name: x'), [b('name')])).toEqual([undefined]);
  });

  it('skips empty lines and stops values at an embedded NUL', () => {
    expect(scan('\n\nname: a\x00b\n', 'name')).toEqual(['a']);
    expect(scan('name:\x00 x\n', 'name')).toEqual([undefined]);
  });
});

describe('guest property reply', () => {
  const src = source({
    100: 'name: web\nmemory: 2048\n',
    101: 'memory: 512\n',
    102: 'name: "quoted" \\ back\nlock: backup\n',
    103: '',
  });

  it('one guest: {\\n"<vmid>":{"p": "v"}\\n}\\n', () => {
    expect(reply(src, 100, 'name')).toBe('{\n"100":{"name": "web"}\n}\n');
    expect(reply(src, 100, 'name', 'memory')).toBe('{\n"100":{"name": "web","memory": "2048"}\n}\n');
    expect(reply(src, 101, 'name')).toBe('{\n\n}\n');
  });

  it('escapes only " and \\ in values', () => {
    expect(reply(src, 102, 'name')).toBe('{\n"102":{"name": "\\"quoted\\" \\\\ back"}\n}\n');
  });

  it('vmid 0 = every guest with a match, joined by ,\\n', () => {
    expect(reply(src, 0, 'name')).toBe('{\n"100":{"name": "web"},\n"102":{"name": "\\"quoted\\" \\\\ back"}\n}\n');
    expect(reply(src, 0, 'lock', 'memory')).toBe(
      '{\n"100":{"memory": "2048"},\n"101":{"memory": "512"},\n"102":{"lock": "backup"}\n}\n',
    );
    expect(reply(source({}), 0, 'name')).toBe('{\n\n}\n');
  });

  it('unknown guest ENOENT; a registered guest whose config is empty EIO', () => {
    expect(reply(src, 999, 'name')).toBe(-Errno.ENOENT);
    expect(reply(src, 103, 'name')).toBe(-Errno.EIO);
  });
});
