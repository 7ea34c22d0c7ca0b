import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JIT_TIERING_FLAGS } from '../../../src/daemon/jit-tiering';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * Calls a small function in a fresh node process until V8 reports it optimised, and answers the
 * number of calls. The compile runs on the main thread (--no-concurrent-recompilation), so the count
 * depends only on V8's tiering rules, not on how busy the machine is.
 */
function callsUntilOptimised(loadTieringModule: boolean): number {
  const script = `
    ${loadTieringModule ? `require(${JSON.stringify(path.join(ROOT, 'src/daemon/jit-tiering.ts'))});` : ''}
    function sum(a) { let s = 0; for (let i = 0; i < 10; i++) s += a * i; return s; }
    let calls = 0;
    // Bit 16 of %GetOptimizationStatus: optimised code is installed.
    while (!(%GetOptimizationStatus(sum) & 16) && calls < 1e6) { sum(calls); calls++; }
    process.stdout.write(String(calls));
  `;
  const r = spawnSync(process.execPath, [
    '-r', path.join(ROOT, 'test/helpers/ts-require.cjs'), '--allow-natives-syntax', '--no-concurrent-recompilation', '-e', script,
  ], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return Number(r.stdout);
}

describe('JIT tiering options', () => {
  it('are the documented ones: a budget of 4 KiB of bytecode (V8 default: 66 KiB), feedback vectors from the first call', () => {
    expect(JIT_TIERING_FLAGS).toEqual(['--interrupt-budget=4096', '--no-lazy-feedback-allocation']);
  });

  it('loading the module makes a hot function tier up after far fewer calls', () => {
    const withDefaults = callsUntilOptimised(false);
    const withTiering = callsUntilOptimised(true);
    expect(withDefaults).toBeGreaterThan(0);
    expect(withDefaults).toBeLessThan(1e6);
    // V8's defaults need ~230 calls of this function here; the daemon's options, about 15.
    expect(withTiering).toBeLessThan(withDefaults / 4);
  });
});
