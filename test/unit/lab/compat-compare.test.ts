import { describe, expect, it } from 'vitest';
import { compareRecords, normaliseText } from '../../../lab/compat/compare-records';

// Texts as the reference and pmxcfs-ts answered them side by side (2026-12-07, lab/compat).
describe('compare-records normalisation (lab/compat)', () => {
  it('guest lists: order and per-guest versions do not count, the list version and the guests do', () => {
    const ref = '{\n"version": 4,\n"ids": {\n"209": { "node": "n", "type": "lxc", "version": 26 },\n"100": { "node": "n", "type": "qemu", "version": 19 }}\n\n}\n';
    const ts = '{\n"version": 4,\n"ids": {\n"100": { "node": "n", "type": "qemu", "version": 1 },\n"209": { "node": "n", "type": "lxc", "version": 2 }}\n\n}\n';
    expect(normaliseText(ref)).toBe(normaliseText(ts));
    expect(normaliseText(ref.replace('"version": 4', '"version": 5'))).not.toBe(normaliseText(ts));
    expect(normaliseText(ref.replace('"lxc"', '"qemu"'))).not.toBe(normaliseText(ts));
  });

  it('guest properties, kvstore keys and RRD lines are compared as sets; times and pids are masked', () => {
    expect(normaliseText('{\n"600":{"parent": "snap1"},\n"108":{"parent": "pre"}\n}\n')).toBe(
      normaliseText('{\n"108":{"parent": "pre"},\n"600":{"parent": "snap1"}\n}\n'),
    );
    expect(normaliseText('"kvstore": {\n"node1": {\n"b": 0,\n"a": 1}\n}\n}\n')).toBe(normaliseText('"kvstore": {\n"node1": {\n"a": 1,\n"b": 0}\n}\n}\n'));
    expect(normaliseText('pve2-node/n6:\npve2-node/n1:1:2\n\0')).toBe(normaliseText('pve2-node/n1:1:2\npve2-node/n6:\n\0'));
    expect(normaliseText('pve2-node/n6:\n\0')).not.toBe(normaliseText('pve2-node/n6:\n'));
    expect(normaliseText('{"uid": 1, "time": 17, "pid": 5}')).toBe(normaliseText('{"uid": 1, "time": 99, "pid": 7}'));
  });

  it('reports the fields that differ, and refuses runs that asked different questions', () => {
    const diffs = compareRecords(
      [{ name: 'set nodeip', id: 4, error: -12, text: '' }, { name: 'same', error: 0 }],
      [{ name: 'set nodeip', id: 4, error: -22, text: '' }, { name: 'same', error: 0 }],
    );
    expect(diffs).toEqual([{ name: 'set nodeip', fields: [{ field: 'error', ref: -12, ts: -22 }] }]);
    expect(() => compareRecords([{ name: 'a' }], [{ name: 'b' }])).toThrow(/'a' vs 'b'/);
  });
});
