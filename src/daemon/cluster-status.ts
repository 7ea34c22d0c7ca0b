/**
 * Status file contents in cluster mode (spec §8.4): `.members` from the cmap nodelist with the
 * kvstore's online flags and node IPs plus quorum, `.version` with the clinfo counter, the kvstore
 * versions and the observed-path counters, `.vmlist` from memdb, `.clusterlog` and `.rrd` from the
 * kvstore.
 */
import type { ClusterInfo } from '../corosync/cluster-info';
import type { ClusterConfig, Kvstore } from '../kvstore/kvstore';
import type { MemDb } from '../memdb/memdb';
import { renderMembers } from '../status/members';
import { ObservedPathVersions } from '../status/observed-paths';
import { renderVersion } from '../status/version';
import { renderVmlist } from '../status/vmlist';
import type { Clock, StatusSource } from './backend';

/** cmap's description in the shape the kvstore keeps. */
export function clusterConfigOf(info: ClusterInfo): ClusterConfig {
  return {
    name: info.clusterName,
    configVersion: info.configVersion,
    nodes: info.nodes.map((n) => ({ name: n.name, nodeid: n.nodeid, votes: n.votes })),
  };
}

export class ClusterStatusSource implements StatusSource {
  readonly observed = new ObservedPathVersions();

  constructor(
    private readonly memdb: MemDb,
    private readonly kvstore: Kvstore,
    private readonly quorate: () => boolean,
    private readonly starttime: number,
    private readonly clock: Clock,
  ) {
    // The tree was loaded before we could listen: that load counts like every full load.
    this.observed.bumpAll();
    memdb.setListener({
      pathChanged: (path) => this.observed.pathChanged(path),
      treeReloaded: () => this.observed.bumpAll(),
    });
  }

  version(): string {
    return renderVersion({
      starttime: this.starttime,
      clinfo: this.kvstore.clinfoVersion,
      vmlist: this.memdb.vmlist().version,
      paths: this.observed.entries(),
      kvstore: this.kvstore.kvstoreVersions(),
    });
  }

  members(): string {
    return renderMembers(this.kvstore.membersStatus(this.quorate()));
  }

  vmlist(): string {
    const list = this.memdb.vmlist();
    return renderVmlist({ version: list.version, guests: list.guests });
  }

  clusterLog(): string {
    return this.kvstore.clusterLogJson();
  }

  rrdDump(): string {
    return this.kvstore.rrdDump(this.clock());
  }
}
