#!/usr/bin/env bash
# Guest configs and a token file with the edge cases the guest-property and token requests scan
# (snapshots, [PENDING], comments, CR, spaces, duplicates, no newline, non-UTF-8, empty). Written
# as PVE writes configs (temporary file, then rename), so both daemons count the same versions.
set -e
put() { printf "$2" >"$1.tmp.$$"; mv "$1.tmp.$$" "$1"; }
cd /etc/pve
mkdir -p nodes/node1/qemu-server nodes/node1/lxc
put nodes/node1/qemu-server/500.conf 'boot: order=scsi0\ncores: 2\nmemory: 2048\nname: web01\nnet0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0\nonboot: 1\nsockets: 1\nlock: backup\ntags: a;b\n\n[snap1]\ncores: 1\nname: web01-old\nsnaptime: 1700000000\n'
put nodes/node1/qemu-server/501.conf '#comment line\ndescription: line1%%0Aline2\ncores:   4   \nname: \t spaced \t\nmemory: 1024\r\nonboot:1\n[PENDING]\ncores: 8\n'
put nodes/node1/qemu-server/502.conf 'cores: 2\ncores: 3\ncores: 4\nname: dup\nname: dup2\n'
put nodes/node1/qemu-server/503.conf 'name: "quoted\\\\back"\ncores:\nsockets:    \nnet0: x\n'
put nodes/node1/qemu-server/504.conf ''
put nodes/node1/qemu-server/505.conf 'name: nolf'
put nodes/node1/lxc/600.conf 'arch: amd64\nhostname: ct600\nmemory: 512\nrootfs: local:600/vm-600-disk-0.raw,size=8G\nparent: snap1\n\n[snap1]\nhostname: old\n'
put nodes/node1/qemu-server/506.conf ' name: leading\n\tcores: 1\nname : spacebefore\nname:x\n'
put nodes/node1/qemu-server/507.conf 'name: caf\xc3\xa9 \xff bin\ncores: 1\x00x\nmemory: 64\n'
put nodes/node1/qemu-server/508.conf '[special:cloudinit]\nname: ci\n'
put nodes/node1/qemu-server/509.conf 'cores: 1\n\n\n  \nname: afterblank\n'
put priv/token.cfg 'root@pam!tok1 12345678-aaaa\nuser@pve!t2 abcdef\n\n'
echo done
