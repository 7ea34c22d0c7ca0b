import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { parseAbArgs, roundOrder } from '../../../lab/bench/ab-ns';
import { median } from '../../../lab/bench/stats';

describe('ab-ns: two builds alternating on namespace clusters', () => {
  it('takes two or more build directories, resolved, with defaults for the rest', () => {
    const o = parseAbArgs(['--builds', 'a,/tmp/b']);
    expect(o).toEqual({ builds: [path.resolve('a'), '/tmp/b'], rounds: 4, seconds: 5, op: 'atomic', client: 'sync' });
    expect(parseAbArgs(['--builds', 'a,b', '--rounds', '6', '--seconds', '3', '--op', 'lock', '--client', 'async']))
      .toMatchObject({ rounds: 6, seconds: 3, op: 'lock', client: 'async' });
  });

  it('refuses one build, unknown options and values with the usage', () => {
    expect(() => parseAbArgs(['--builds', 'a'])).toThrow(/usage/);
    expect(() => parseAbArgs(['--builds', 'a,b', '--op', 'read'])).toThrow(/usage/);
    expect(() => parseAbArgs(['--builds', 'a,b', '--rounds', '0'])).toThrow(/usage/);
    expect(() => parseAbArgs(['--builds', 'a,b', '--fast'])).toThrow(/usage/);
  });

  it('alternates the order every round, so neither build is always second', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(r, 2))).toEqual([[0, 1], [1, 0], [0, 1], [1, 0]]);
    expect(roundOrder(1, 3)).toEqual([2, 1, 0]);
  });

  it('medians per build come from the bench\'s own median: odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
