// Running host commands from the lab: capture output (for tests and status) or stream it (for the
// CLI), always asynchronously so a slow docker call never blocks the event loop.
import { spawn } from 'child_process';

export interface RunResult {
  code: number; // exit status; 124 when killed by the timeout, 127 when the program is missing
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer; // written to stdin, then stdin is closed
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each chunk of stdout+stderr as it arrives (progress display). */
  onOutput?: (chunk: string) => void;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
    const finish = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(r);
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      opts.onOutput?.(d);
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
      opts.onOutput?.(d);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({ code: err.code === 'ENOENT' ? 127 : 1, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code, signal) => {
      finish({ code: timedOut ? 124 : code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-10).join('\n');
    super(`${cmd} ${args.join(' ')} failed with status ${result.code}${tail ? `:\n${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** run() that throws a CommandError on a non-zero exit status. */
export async function runChecked(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CommandError(cmd, args, r);
  return r;
}

/** Run with the terminal attached (interactive exec, logs -f); resolves with the exit status. */
export function runInherit(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: env ?? process.env });
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Is a program on PATH? */
export async function haveProgram(name: string): Promise<boolean> {
  const r = await run('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', name]);
  return r.code === 0;
}
