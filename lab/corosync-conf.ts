// corosync.conf for the lab (pure): rendering from the node table, reading config_version back.

export interface CorosyncConfOptions {
  clusterName: string;
  configVersion: number;
  nodes: ReadonlyArray<{ name: string; nodeid: number; ip: string }>;
  /** totem.token in ms; corosync adds token_coefficient per node beyond two. */
  tokenMs?: number;
  tokenCoefficientMs?: number;
}

/**
 * A knet cluster with encryption (the authkey is required) and short timeouts so that tests see
 * membership changes within a few seconds. consensus is left to its default (1.2 × the effective
 * token) because corosync refuses a smaller explicit value.
 */
export function renderCorosyncConf(o: CorosyncConfOptions): string {
  const token = o.tokenMs ?? 1000;
  const coefficient = o.tokenCoefficientMs ?? 250;
  const nodes = o.nodes
    .map(
      (n) =>
        `  node {\n    name: ${n.name}\n    nodeid: ${n.nodeid}\n    quorum_votes: 1\n    ring0_addr: ${n.ip}\n  }\n`,
    )
    .join('');
  return (
    `logging {\n  debug: off\n  to_stderr: yes\n  to_syslog: no\n  to_logfile: no\n  timestamp: on\n}\n\n` +
    `nodelist {\n${nodes}}\n\n` +
    `quorum {\n  provider: corosync_votequorum\n}\n\n` +
    `totem {\n  cluster_name: ${o.clusterName}\n  config_version: ${o.configVersion}\n` +
    `  interface {\n    linknumber: 0\n  }\n  ip_version: ipv4\n  link_mode: passive\n` +
    `  secauth: on\n  crypto_cipher: aes256\n  crypto_hash: sha256\n  transport: knet\n` +
    `  token: ${token}\n  token_coefficient: ${coefficient}\n  version: 2\n}\n`
  );
}

/** config_version the way pmxcfs reads it: the first `config_version\s*:\s*(\d+)`; 0 if absent. */
export function parseConfigVersion(text: string): number {
  const m = /config_version\s*:\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Node names listed in a corosync.conf nodelist (name: preferred, as pmxcfs does). */
export function parseNodeNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/node\s*\{([^}]*)\}/g)) {
    const name = /\bname\s*:\s*(\S+)/.exec(m[1]!);
    const addr = /\bring0_addr\s*:\s*(\S+)/.exec(m[1]!);
    if (name) names.push(name[1]!);
    else if (addr) names.push(addr[1]!);
  }
  return names;
}
