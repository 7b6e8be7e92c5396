#!/usr/bin/env bash
# A real one-node Slurm cluster in a throwaway folder, for tests and for trying --executor slurm:
# Debian's slurmctld + slurmd, started without systemd, cgroups, munge or accounting.
#
#   scripts/slurm-local.sh install      apt-get install slurmctld slurmd (root; once per machine)
#   scripts/slurm-local.sh start DIR    write DIR/slurm.conf, start both daemons, wait for an idle node;
#                                       prints the line to use it: export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm-local.sh stop DIR     stop the daemons started in DIR and the jobs they left
#
# Ports 16817/16818 (not Slurm's defaults). Exit codes: 0 done, 3 cannot be installed or started.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null; then return 0; fi
  if [ "$(id -u)" != 0 ]; then echo "slurm-local: slurmctld/slurmd are not installed and installing them needs root" >&2; exit 3; fi
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurmctld slurmd >/dev/null; } || { echo "slurm-local: apt-get could not install slurmctld slurmd" >&2; exit 3; }
}

alive() { # pid file → is the process alive (not a zombie)?
  local f="$1"
  [ -f "$f" ] || return 1
  local pid
  pid="$(cat "$f")"
  [ -r "/proc/$pid/stat" ] || return 1
  local state
  state="$(awk '{print $3}' "/proc/$pid/stat")"
  [ "$state" != Z ]
}

start() {
  [ -n "$dir" ] || { echo "usage: slurm-local.sh start DIR" >&2; exit 2; }
  install
  mkdir -p "$dir"/{state,spool,run,log}
  dir="$(cd "$dir" && pwd)"
  local mem cpus
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  cpus=$(nproc)
  cat >"$dir/slurm.conf" <<EOF
ClusterName=localtest
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=3600
MaxArraySize=${SLURM_LOCAL_MAX_ARRAY:-1001}
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -f "$dir/slurm.conf" || { echo "slurm-local: slurmctld did not start (see $dir/log/slurmctld.log)" >&2; exit 3; }
  slurmd -f "$dir/slurm.conf" -N localhost || { echo "slurm-local: slurmd did not start (see $dir/log/slurmd.localhost.log)" >&2; stop; exit 3; }
  export SLURM_CONF="$dir/slurm.conf"
  for _ in $(seq 1 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then echo "export SLURM_CONF=$dir/slurm.conf"; return 0; fi
    sleep 0.1
  done
  echo "slurm-local: the node did not become idle within 10 s (see $dir/log/)" >&2
  stop
  exit 3
}

stop() {
  [ -n "$dir" ] || { echo "usage: slurm-local.sh stop DIR" >&2; exit 2; }
  local f pid
  for f in "$dir"/run/slurmd.*.pid "$dir"/run/slurmctld.pid; do
    if alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do
    local any=0
    for f in "$dir"/run/*.pid; do if alive "$f"; then any=1; fi; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  # jobs that slurmd left behind: their slurmstepd processes name this cluster's spool folder
  for pid in $(pgrep -f "slurmstepd" || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$dir" || grep -qs "$dir" "/proc/$pid/environ"; then kill "$pid" 2>/dev/null || true; fi
  done
  return 0
}

case "$cmd" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: slurm-local.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac
