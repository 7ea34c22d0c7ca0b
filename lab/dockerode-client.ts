// The Docker engine through its API (dockerode): one client per process, exec with exit code and
// separate stdout/stderr, inspect helpers. Nothing here runs or parses the docker command-line client.
import Docker from 'dockerode';
import { PassThrough } from 'stream';

let client: Docker | undefined;

/** The shared engine client (DOCKER_HOST or the local socket, as dockerode defaults). */
export function engine(): Docker {
  client ??= new Docker();
  return client;
}

export interface ExecResult {
  code: number; // exit status; 124 when the timeout hit first
  stdout: string;
  stderr: string;
  /** stdout as bytes (binary-safe). */
  stdoutBytes: Buffer;
}

export interface ExecOptions {
  input?: string | Buffer; // written to stdin, then stdin is closed
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Start the process and return at once (docker exec -d): code 0, no output. */
  detach?: boolean;
  /** Called with each stdout chunk as it arrives (progress, "ready" markers). */
  onStdout?: (chunk: Buffer) => void;
}

/**
 * Run argv inside a running container. Never throws for the command's own failure: the exit status
 * is in `code`. Throws when the engine refuses (container missing or not running).
 */
export async function execInContainer(container: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const c = engine().getContainer(container);
  const withInput = opts.input !== undefined;
  const exec = await c.exec({
    Cmd: [...argv],
    AttachStdin: withInput,
    AttachStdout: !opts.detach,
    AttachStderr: !opts.detach,
    Tty: false,
    Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
  });
  if (opts.detach) {
    await exec.start({ Detach: true });
    return { code: 0, stdout: '', stderr: '', stdoutBytes: Buffer.alloc(0) };
  }
  const stream = await exec.start({ hijack: true, stdin: withInput });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const outS = new PassThrough();
  const errS = new PassThrough();
  outS.on('data', (d: Buffer) => {
    out.push(d);
    opts.onStdout?.(d);
  });
  errS.on('data', (d: Buffer) => err.push(d));
  engine().modem.demuxStream(stream, outS, errS);
  let timedOut = false;
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          stream.destroy();
        }, opts.timeoutMs)
      : undefined;
  if (withInput) stream.end(opts.input);
  await ended;
  if (timer) clearTimeout(timer);
  const stdoutBytes = Buffer.concat(out);
  const result = (code: number): ExecResult => ({
    code,
    stdout: stdoutBytes.toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    stdoutBytes,
  });
  if (timedOut) return result(124);
  // The stream can end a moment before the engine records the exit status.
  for (let i = 0; i < 200; i++) {
    const info = await exec.inspect();
    if (!info.Running) return result(info.ExitCode ?? 1);
    await new Promise((r) => setTimeout(r, 10));
  }
  return result(124);
}

export interface ContainerSummary {
  exists: boolean;
  running: boolean;
  status: string; // running, exited, created, ... or "absent"
  exitCode: number;
  networks: Record<string, string>; // network name -> IPv4 address
  labels: Record<string, string>;
  image: string;
}

const ABSENT: ContainerSummary = { exists: false, running: false, status: 'absent', exitCode: -1, networks: {}, labels: {}, image: '' };

function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

export async function inspectContainer(name: string): Promise<ContainerSummary> {
  try {
    const i = await engine().getContainer(name).inspect();
    const networks: Record<string, string> = {};
    for (const [k, v] of Object.entries(i.NetworkSettings.Networks ?? {})) networks[k] = v.IPAddress ?? '';
    return {
      exists: true,
      running: i.State.Running === true,
      status: i.State.Status ?? 'unknown',
      exitCode: i.State.ExitCode ?? -1,
      networks,
      labels: i.Config.Labels ?? {},
      image: i.Config.Image,
    };
  } catch (e) {
    if (isNotFound(e)) return ABSENT;
    throw e;
  }
}

/** The last lines of a container's log (stdout and stderr interleaved as the engine stored them). */
export async function containerLogs(name: string, tail = 40): Promise<string> {
  try {
    const buf = (await engine().getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return demuxBuffer(buf).trimEnd();
  } catch (e) {
    if (isNotFound(e)) return '';
    throw e;
  }
}

/** A multiplexed log buffer (8-byte frame headers) as text; plain text is returned as is. */
export function demuxBuffer(buf: Buffer): string {
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const kind = buf[off]!;
    const len = buf.readUInt32BE(off + 4);
    if (kind > 2 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0 || off + 8 + len > buf.length) {
      return buf.toString('utf8'); // not framed (a TTY container)
    }
    parts.push(buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function engineAnswers(): Promise<boolean> {
  try {
    await engine().ping();
    return true;
  } catch {
    return false;
  }
}

export async function imageExists(name: string): Promise<boolean> {
  try {
    await engine().getImage(name).inspect();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export { isNotFound };
