import { describe, expect, it } from 'vitest';
import { median, percentile, ratePerSecond } from '../../../lab/bench/stats';

describe('bench stats', () => {
  it('median of odd and even counts, unsorted input left untouched', () => {
    const input = [5, 1, 3];
    expect(median(input)).toBe(3);
    expect(input).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('percentile uses nearest rank', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile(new Float64Array([0.3, 0.1, 0.2]), 50)).toBe(0.2);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('numeric sort, not lexicographic', () => {
    expect(percentile([10, 9, 100, 2], 50)).toBe(9);
    expect(median([10, 9, 100, 2])).toBe(9.5);
  });

  it('rate is NaN without elapsed time', () => {
    expect(ratePerSecond(500, 0.5)).toBe(1000);
    expect(ratePerSecond(5, 0)).toBeNaN();
  });
});
