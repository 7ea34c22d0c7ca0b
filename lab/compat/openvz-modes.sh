cd /etc/pve; mkdir -p t/openvz priv/t
for f in 101.mount vps.start vps.stop 1.umount 9.premount 5.postumount 0.mount 01.mount 1x.mount 1.mountx vps.mountx 4294967296.mount 1.start.sh x.stop .mount vpsx.start; do : > t/$f; done
: > priv/t/101.mount
mkdir t/102.mount
stat -c '%A %n' t/* priv/t/*
chmod 0740 t/101.mount; echo chmod0740=$?; chmod 0640 t/101.mount; echo chmod0640=$?
perl -e 'print "x_ok=", (-x "t/101.mount" ? 1 : 0), "\n"'
rm -rf t priv/t
