import { describe, expect, it } from 'vitest';
import { FIGURES, figureSpec, goalFor, verdict } from '../../../lab/bench/figures';

describe('bench figures and verdicts', () => {
  it('a relative goal scales the yardstick of the same client pattern only', () => {
    const spec = figureSpec('atomicWrite1kPerSec');
    expect(goalFor(spec, 'sync')).toEqual({ kind: 'atLeast', value: 3750, text: '>= 1.5x C' });
    expect(goalFor(spec, 'async')).toEqual({ kind: 'atLeast', value: 2689.5, text: '>= 1.5x C' });
    expect(verdict(3750, goalFor(spec, 'sync'))).toBe('pass');
    expect(verdict(3749.9, goalFor(spec, 'sync'))).toBe('miss');
  });

  it('lower-is-better goals pass at or below the bar', () => {
    const chunks = figureSpec('write500kChunksSec');
    expect(verdict(0.2258, goalFor(chunks, 'sync'))).toBe('pass');
    expect(verdict(0.23, goalFor(chunks, 'sync'))).toBe('miss');
    expect(verdict(0.27, goalFor(chunks, 'async'))).toBe('pass');
    expect(verdict(8, goalFor(figureSpec('amp1k'), 'sync'))).toBe('pass');
    expect(verdict(1.6, goalFor(figureSpec('amp1m'), 'sync'))).toBe('miss');
  });

  it('no goal is info, no value is n/a', () => {
    expect(verdict(1, goalFor(figureSpec('amp128k'), 'sync'))).toBe('info');
    expect(verdict(undefined, goalFor(figureSpec('amp1k'), 'sync'))).toBe('n/a');
    expect(verdict(NaN, goalFor(figureSpec('amp1k'), 'async'))).toBe('n/a');
  });

  it('keys are unique', () => {
    expect(new Set(FIGURES.map((f) => f.key)).size).toBe(FIGURES.length);
  });
});
