# Shared helpers for the test-environment scripts. Sourced, not run.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"

CACHE_ROOT="${B2B_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/b2b-operator}"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH; it is needed to build etcd and kube-apiserver (install Go >= 1.26, or set KUBEBUILDER_ASSETS to a folder holding etcd, kube-apiserver and kubectl)"
}

# Java 25 for Lowkey Vault >= 5: JAVA25_HOME, then the JDKs under /usr/lib/jvm, then PATH.
find_java25() {
  local candidates=()
  [[ -n "${JAVA25_HOME:-}" ]] && candidates+=("$JAVA25_HOME/bin/java")
  local d
  for d in /usr/lib/jvm/*; do [[ -x "$d/bin/java" ]] && candidates+=("$d/bin/java"); done
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  local j v
  for j in "${candidates[@]}"; do
    v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | sed -n 1p)
    if [[ -n "$v" && "$v" -ge 25 ]]; then echo "$j"; return 0; fi
  done
  die "Java 25 or newer is needed to run the Lowkey Vault emulator; none found (looked at JAVA25_HOME, /usr/lib/jvm/*, PATH). On Debian: apt-get install openjdk-25-jre-headless, or set JAVA25_HOME"
}

# The Lowkey Vault source folder: LOWKEY_VAULT_SRC, else shared/lowkey-vault beside the repository
# (for a git worktree, also beside its main checkout). Prints nothing when there is none.
lowkey_vault_src() {
  if [[ -n "${LOWKEY_VAULT_SRC:-}" ]]; then
    [[ -d "$LOWKEY_VAULT_SRC" ]] || die "LOWKEY_VAULT_SRC=$LOWKEY_VAULT_SRC does not exist"
    echo "$LOWKEY_VAULT_SRC"; return 0
  fi
  local root common
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  common="$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  local candidate
  for candidate in "$root/../shared/lowkey-vault" ${common:+"$(dirname "$common")/../shared/lowkey-vault"}; do
    if [[ -f "$candidate/build.sh" ]]; then (cd "$candidate" && pwd); return 0; fi
  done
}

# ---- Processes of a test environment: each one NAME has $DIR/NAME.{cmd,pid,log} and, when it
# serves, NAME.{health,ports}. hack/testenv.sh defines the components; test/unit/hack tests these.

# A port nothing listens on, below the kernel's ephemeral range when there is room for it: a
# port in that range can be taken between the pick and the bind by any outgoing connection or
# any server asking for port 0, tests included.
free_port() {
  local lo=20000 hi=60000 ephemeral p
  read -r ephemeral _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral=0
  ((ephemeral - lo >= 4000)) && hi=$ephemeral
  while :; do
    p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# A component's main port: free_port, or on its first attempt the port TESTENV_FIRST_PORTS names.
pick_port() { # component
  local pair
  if ((ATTEMPT == 1)); then
    for pair in ${TESTENV_FIRST_PORTS:-}; do
      [[ "${pair%%=*}" == "$1" ]] && { echo "${pair#*=}"; return; }
    done
  fi
  free_port
}
ATTEMPT=1

# Runs a command detached in its own session, remembering its pid for `down` and its command
# line for `start NAME` (the same flags and ports again).
start_bg() {
  local name="$1" pid i; shift
  # With job control on, the child would lead its own process group and setsid would fork:
  # the pid we keep would exit at once and the component run on unrecorded.
  local -
  set +m
  printf '%q ' "$@" >"$DIR/$name.cmd"
  echo "--- testenv: start $(date -u +%FT%TZ) ---" >>"$DIR/$name.log"
  setsid "$@" >>"$DIR/$name.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" >"$DIR/$name.pid"
  # Until it execs setsid, the child is a copy of this shell, which live_pid rightly refuses.
  [[ -r "/proc/$pid/cmdline" && -r "/proc/$$/cmdline" ]] || return 0
  for ((i = 0; i < 100; i++)); do
    cmp -s "/proc/$pid/cmdline" "/proc/$$/cmdline" 2>/dev/null || return 0
    sleep 0.05
  done
}

# Remembers how to tell that a component is up, and the ports it must hold, for `start NAME`.
health_check() { # name command...
  local name="$1"; shift
  printf '%q ' "$@" >"$DIR/$name.health"
}
listens() { # name port...
  local name="$1"; shift
  echo "$*" >"$DIR/$name.ports"
}

# True when process $1 holds a listening TCP socket on each port: a health check alone may be
# answered by another control plane's component that bound the port first.
holds_ports() { # pid port...
  local pid="$1" port inode fds
  shift
  [[ -r /proc/net/tcp ]] || return 0 # no procfs: the health check has to do
  fds="$(ls -l "/proc/$pid/fd" 2>/dev/null)" || return 1
  for port; do
    inode="$(awk -v p="$(printf ':%04X' "$port")" \
      '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)"
    [[ -n "$inode" ]] || return 1
    grep -qE "socket:\[($(tr '\n' '|' <<<"$inode" | sed 's/|$//'))\]" <<<"$fds" || return 1
  done
}

# The component's log since its last start says it could not bind a port (Go: "bind: address
# already in use"; Spring Boot: "Port N was already in use").
bind_failed() {
  [[ -f "$DIR/$1.log" ]] || return 1
  local log="$DIR/$1.log" from
  from="$(grep -n '^--- testenv: start ' "$log" | tail -1 | cut -d: -f1)"
  tail -n +"${from:-1}" "$log" | grep -iE 'address already in use|was already in use' >/dev/null
}

# Waits until the component holds its ports and answers its health check (each with a timeout:
# a server that hangs must not hang `up`). Fails early when the component exits or cannot bind.
wait_healthy() { # name seconds
  local name="$1" seconds="$2" pid
  local -a check ports=()
  eval "check=($(cat "$DIR/$name.health"))"
  [[ -f "$DIR/$name.ports" ]] && read -ra ports <"$DIR/$name.ports"
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    pid="$(live_pid "$DIR/$name.pid")" || { why_not_running "$name"; return 1; }
    bind_failed "$name" && return 1
    # Asked only once it holds its ports: until then the answer would be another's, if any.
    if holds_ports "$pid" "${ports[@]}" && "${check[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  if holds_ports "$pid" "${ports[@]}"; then
    log "$name (pid $pid) holds its ports ${ports[*]} but did not answer $(cat "$DIR/$name.health")within ${seconds} s"
  else
    log "$name (pid $pid) did not listen on its ports ${ports[*]} within ${seconds} s"
  fi
  return 1
}

# Says why a component's pid is not the component (for a failed start's report).
why_not_running() { # name
  local pid
  pid="$(cat "$DIR/$1.pid" 2>/dev/null)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "$1 (pid ${pid:-none}) exited"
  else
    log "$1 (pid $pid) is not the component: it runs $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || ps -o args= -p "$pid")"
  fi
}

last_lines() { echo "--- last lines of $DIR/$1.log ---" >&2; tail -20 "$DIR/$1.log" >&2 || true; }

# Starts a component (its launch function picks its ports and calls start_bg, health_check and
# listens) and waits until it is healthy. free_port only sees that nothing listens yet: another
# control plane starting at the same moment may bind the same port first. Then the component
# cannot bind, and starts again on other ports; its failed log is kept as NAME.port-taken-N.log.
start_on_free_ports() { # name seconds launch-function
  local name="$1" seconds="$2" launch="$3"
  for ((ATTEMPT = 1; ATTEMPT <= 5; ATTEMPT++)); do
    "$launch"
    wait_healthy "$name" "$seconds" && { ATTEMPT=1; return 0; }
    stop_pid_file "$DIR/$name.pid"
    bind_failed "$name" || break
    log "$name could not bind a port another process took first; starting it again on other ports"
    mv "$DIR/$name.log" "$DIR/$name.port-taken-$ATTEMPT.log"
  done
  ATTEMPT=1
  last_lines "$name"
  die "$name did not become healthy"
}

# The pid in a component's pid file while that process is still the component: a pid file left
# by a crash or a reboot may name a pid the system has since given to an unrelated process.
live_pid() { # pid-file
  local f="$1" name pid argv argv0 argv1
  pid="$(cat "$f" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  name="$(basename "$f" .pid)"
  [[ -f "$DIR/$name.cmd" ]] || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    # While a process execs (setsid becoming the component) its cmdline reads empty for a moment.
    local i
    for ((i = 0; i < 20; i++)); do
      argv="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -2)"
      [[ -n "$argv" ]] && break
      sleep 0.05
    done
  else
    argv="$(ps -o args= -p "$pid" | awk '{print $1; print $2}')"
  fi
  argv0="$(head -1 <<<"$argv")"
  argv1="$(sed -n 2p <<<"$argv")"
  eval "set -- $(cat "$DIR/$name.cmd")"
  # Right after start_bg the process may still be setsid, a moment before it execs the binary:
  # then its first argument is the binary (another testenv's setsid is not ours).
  [[ -n "$argv0" && ("$argv0" == "$1" || ("$argv0" == setsid && "$argv1" == "$1")) ]] || return 1
  echo "$pid"
}

stop_pid_file() {
  local f="$1" pid
  if pid="$(live_pid "$f")"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
