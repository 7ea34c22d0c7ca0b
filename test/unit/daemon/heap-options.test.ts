import { describe, expect, it } from 'vitest';
import { missingNodeOptions, reexecArgv } from '../../../src/daemon/heap-options';
import { DAEMON_NODE_OPTIONS } from '../../../src/daemon/v8-flags';

describe('heap options of a directly started daemon', () => {
  it('the daemon options are missing when neither the command line nor NODE_OPTIONS gives them', () => {
    expect(DAEMON_NODE_OPTIONS).toContain('--max-semi-space-size=1');
    expect(missingNodeOptions([], undefined)).toEqual([...DAEMON_NODE_OPTIONS]);
    expect(missingNodeOptions(['--cpu-prof', '--trace-gc'], '--enable-source-maps')).toEqual([...DAEMON_NODE_OPTIONS]);
  });

  it('an option given with any value, in either spelling or in NODE_OPTIONS, counts as given', () => {
    const wanted = ['--max-semi-space-size=1'];
    expect(missingNodeOptions(['--max-semi-space-size=1'], undefined, wanted)).toEqual([]);
    expect(missingNodeOptions(['--max-semi-space-size=8'], undefined, wanted)).toEqual([]);
    expect(missingNodeOptions(['--max_semi_space_size=4'], undefined, wanted)).toEqual([]);
    expect(missingNodeOptions([], ' --trace-gc  --max-semi-space-size=2 ', wanted)).toEqual([]);
    // a different option that shares a prefix is not the same option
    expect(missingNodeOptions(['--max-semi-space-size-x=1'], undefined, wanted)).toEqual(wanted);
  });

  it('the new command line keeps node\'s own options, the script and every argument, in order', () => {
    expect(reexecArgv('/usr/bin/node', ['--max-semi-space-size=1'], ['--trace-gc'], '/opt/x/main.js', ['-f', '-l', '--mount', '/m p']))
      .toEqual(['/usr/bin/node', '--max-semi-space-size=1', '--trace-gc', '/opt/x/main.js', '-f', '-l', '--mount', '/m p']);
  });
});
