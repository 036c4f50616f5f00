#!/bin/sh
# A single-node Slurm cluster on 127.0.0.1 for the executor tests (idempotent; needs root).
#
#   sh tests/slurm_setup.sh          # install (apt) if needed, configure, start munge + slurm
#
# Exit 0 when `sinfo` answers; non-zero (with the reason on stderr) when Slurm cannot start.
# No accounting daemon (no slurmdbd): xlbench detects dead jobs by its own heartbeats.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "slurm_setup: needs root (apt-get and system daemons)" >&2
    exit 3
fi
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

NODE=$(hostname -s 2>/dev/null || hostname)
CPUS=$(nproc)
CONF=/etc/slurm/slurm.conf
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge

# munge: a key, then the daemon (as the munge user when it exists)
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --force; else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
fi
if id munge >/dev/null 2>&1; then
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
fi
if ! pgrep -x munged >/dev/null 2>&1; then
    if id munge >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged
    else
        /usr/sbin/munged --force
    fi
fi

cat > "$CONF.new" <<EOF
ClusterName=xlbench
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldParameters=enable_configless
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=30
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
if ! cmp -s "$CONF.new" "$CONF" 2>/dev/null; then
    mv "$CONF.new" "$CONF"
    pkill -x slurmctld 2>/dev/null || true
    pkill -x slurmd 2>/dev/null || true
    sleep 1
else
    rm -f "$CONF.new"
fi
pgrep -x slurmctld >/dev/null 2>&1 || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null 2>&1 || /usr/sbin/slurmd -N "$NODE"

i=0
while [ $i -lt 30 ]; do
    if sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
        exit 0
    fi
    scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
    i=$((i + 1))
    sleep 1
done
echo "slurm_setup: Slurm did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 4
