import { describe, expect, it } from 'vitest';
import { FIGURES, figureSpec, verdict } from '../../../lab/bench/figures';

describe('bench figures and verdicts', () => {
  it('higher-is-better goals pass at or above the bar', () => {
    const goal = figureSpec('atomicWrite1kPerSec').goal;
    expect(goal).toEqual({ kind: 'atLeast', value: 2880, text: '>= 2x C' });
    expect(verdict(2880, goal)).toBe('pass');
    expect(verdict(2879.9, goal)).toBe('miss');
  });

  it('lower-is-better goals pass at or below the bar', () => {
    expect(verdict(0.32, figureSpec('write500kChunksSec').goal)).toBe('pass');
    expect(verdict(0.33, figureSpec('write500kChunksSec').goal)).toBe('miss');
    expect(verdict(8, figureSpec('amp1k').goal)).toBe('pass');
    expect(verdict(1.6, figureSpec('amp1m').goal)).toBe('miss');
  });

  it('no goal is info, no value is n/a', () => {
    expect(verdict(1, figureSpec('amp128k').goal)).toBe('info');
    expect(verdict(undefined, figureSpec('amp1k').goal)).toBe('n/a');
    expect(verdict(NaN, figureSpec('amp1k').goal)).toBe('n/a');
  });

  it('keys are unique', () => {
    expect(new Set(FIGURES.map((f) => f.key)).size).toBe(FIGURES.length);
  });
});
