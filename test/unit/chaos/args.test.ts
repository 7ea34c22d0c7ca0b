import { describe, expect, it } from 'vitest';
import { parseChaosArgs } from '../../../lab/chaos/args';

describe('lab chaos arguments', () => {
  const d = { out: '/tmp/x', seed: 5 };
  it('parses every option and has defaults', () => {
    expect(parseChaosArgs([], d)).toEqual({ nodes: 3, durationS: 60, seed: 5, faults: ['partition', 'fence', 'kill', 'corosync-restart'], clients: 1, thinkMs: 20, out: '/tmp/x', planOnly: false });
    expect(parseChaosArgs(['--nodes', '5', '--duration', '300', '--seed', '9', '--faults', 'partition,fence', '--clients', '2', '--out', 'o', '--plan'], d)).toMatchObject({
      planOnly: true,
      nodes: 5, durationS: 300, seed: 9, faults: ['partition', 'fence'], clients: 2, out: 'o',
    });
  });
  it('refuses unknown options, unknown faults and bad numbers with a clear message', () => {
    expect(() => parseChaosArgs(['--faults', 'partition,meteor'], d)).toThrow(/unknown fault kind\(s\) meteor/);
    expect(() => parseChaosArgs(['--nodes', 'x'], d)).toThrow(/--nodes needs an integer/);
    expect(() => parseChaosArgs(['--bogus'], d)).toThrow(/unknown chaos option/);
    expect(() => parseChaosArgs(['--duration'], d)).toThrow(/got nothing/);
  });
});
