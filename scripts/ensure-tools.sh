#!/bin/sh
# Installs what labsync's demo or tests need and this machine lacks; only what is missing, so a
# second run is instant. As root it installs (apt, pip); otherwise it prints the exact command and stops.
#   sh scripts/ensure-tools.sh demo|test
set -eu
purpose=${1:-test}

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
fi

pip_missing=""
command -v dvc >/dev/null 2>&1 || pip_missing="$pip_missing dvc[s3]"
if [ "$purpose" = test ]; then
  command -v aws >/dev/null 2>&1 || pip_missing="$pip_missing awscli"
  command -v moto_server >/dev/null 2>&1 || pip_missing="$pip_missing moto[server]"
fi

# versitygw, the tests' second S3 server, is built with go when missing; without go its cases say so and skip.
if [ "$purpose" = test ]; then sh "$(dirname "$0")/versitygw.sh" >/dev/null || true; fi

[ -z "$apt_missing$pip_missing" ] && exit 0

apt_cmd="apt-get update && apt-get install -y --no-install-recommends$apt_missing"
pip_cmd="pip install$(for p in $pip_missing; do printf " '%s'" "$p"; done)"
if [ "$(id -u)" != 0 ]; then
  echo "labsync's $purpose needs tools this machine lacks. Install them, then run again:" >&2
  [ -n "$apt_missing" ] && echo "  sudo sh -c '$apt_cmd'" >&2
  [ -n "$pip_missing" ] && echo "  $pip_cmd" >&2
  exit 1
fi

if [ -n "$apt_missing" ]; then
  echo "installing:$apt_missing" >&2
  # policy-rc.d: keep the system sshd from starting on :22; the tests run their own on 127.0.0.1.
  prc=/usr/sbin/policy-rc.d
  created=0
  if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; created=1; fi
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $apt_missing >/dev/null
  [ "$created" = 1 ] && rm -f "$prc"
fi
if [ -n "$pip_missing" ]; then
  echo "installing:$pip_missing" >&2
  # shellcheck disable=SC2086
  pip install -q $pip_missing
  # pyenv puts new console scripts on PATH only after a rehash.
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
