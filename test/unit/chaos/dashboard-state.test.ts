import { describe, expect, it } from 'vitest';
import { parseClusterLog, visibilityGroups, type DashboardNode } from '../../../lab/dashboard/state';
import { liveRates } from '../../../lab/chaos/live';
import { HistoryBuilder } from './history-builder';

function node(name: string, members: string[], extra: Partial<DashboardNode> = {}): DashboardNode {
  return { node: name, running: true, answering: true, readOnly: false, corosyncQuorate: true, members, mounted: true, daemon: null, ...extra };
}

describe('dashboard state', () => {
  it('groups nodes that see each other both ways; a silent or stopped node is in no group', () => {
    const g = visibilityGroups([
      node('a', ['a', 'b']),
      node('b', ['a', 'b']),
      node('c', ['c', 'a']), // c thinks it sees a, a does not see c
      node('d', ['d'], { answering: false }),
      node('e', [], { running: false }),
    ]);
    expect(g).toEqual([['a', 'b'], ['c']]);
  });

  it('takes the newest cluster-log entries and survives garbage', () => {
    const text = JSON.stringify({ data: [1, 5, 3].map((t) => ({ time: t, node: 'n', tag: 'x', msg: `m${t}`, pri: 6 })) });
    expect(parseClusterLog(text, 2).map((e) => e.msg)).toEqual(['m5', 'm3']);
    expect(parseClusterLog('not json')).toEqual([]);
  });

  it('live rates count the last window only', () => {
    const h = new HistoryBuilder()
      .op('node1', 'write', 'f', 0, 1_000)
      .op('node1', 'write', 'f', 9_000, 9_010)
      .op('node1', 'write', 'f', 9_500, 9_530, { outcome: 'fail', errno: 'EACCES' })
      .build();
    const r = liveRates(h.ops, 10_000, 5_000);
    expect(r.opsPerSec).toBeCloseTo(0.2);
    expect(r.errorsPerSec).toBeCloseTo(0.2);
    expect(r.p50Ms).toBe(30);
  });
});
