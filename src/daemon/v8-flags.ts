/**
 * Node/V8 options the daemon runs with (issue 10, memory). V8 grows the young generation up to
 * 2 x 16 MiB while objects are allocated fast (creating thousands of configs), and does not give
 * it back: that was half of the daemon's growth with 10,000 guests. A 1 MiB semi-space keeps it at
 * 2 MiB; the scavenges it costs are short (little survives a FUSE request). The options are given
 * where the daemon process is started: daemonize.ts, the packaged wrapper and the lab entrypoint.
 */
export const DAEMON_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1'];
