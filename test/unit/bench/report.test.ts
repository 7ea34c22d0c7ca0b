import { describe, expect, it } from 'vitest';
import { formatTable, tableRows } from '../../../lab/bench/report';

describe('bench report', () => {
  it('puts each client pattern beside the reference figure of the same pattern', () => {
    const results = [
      { key: 'atomicWrite1kPerSec', pattern: 'sync' as const, value: 4000, runs: [4000] },
      { key: 'atomicWrite1kPerSec', pattern: 'async' as const, value: 2000, runs: [2000] },
    ];
    const [row] = tableRows(results);
    expect(row!.cells.sync).toMatchObject({ value: '4,000', c: '2,500', result: 'pass' });
    expect(row!.cells.async).toMatchObject({ value: '2,000', c: '1,793', result: 'miss' });
    const text = formatTable(results);
    expect(text.split('\n')[0]).toMatch(/figure\s+sync ts\s+sync C\s+goal\s+result\s+async ts\s+async C\s+goal\s+result/);
  });

  it('a pattern that was not measured gets no columns', () => {
    const text = formatTable([{ key: 'lockPairsPerSec', pattern: 'sync', value: 5000, runs: [5000] }]);
    expect(text).not.toMatch(/async/);
    expect(text).toMatch(/4,379/);
  });
});
