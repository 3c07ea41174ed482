#!/usr/bin/env bash
# Starts or stops a local control plane for tests and the demo: etcd, kube-apiserver and,
# when its jar is available, the Lowkey Vault emulator. Everything lives in $TESTENV_DIR
# (default .testenv); `up` writes $TESTENV_DIR/env, a file of export lines.
#   hack/testenv.sh up | down | status
#   hack/testenv.sh stop|start etcd|kube-apiserver|kube-controller-manager|lowkey-vault|NAME
# (stop and start one component again with the same flags, ports and data: for the chaos run)
#   hack/testenv.sh run NAME COMMAND...
# (a process of the environment's user, the demo's operator: started unless it runs already,
# listed by `status`, stopped by `down` first)
# `up` on a running environment leaves it as it is, data and processes included.
# TESTENV_VAULT_EMULATOR=0 skips the emulator (a second control plane beside a running one).
# TESTENV_FIRST_PORTS="etcd=PORT kube-apiserver=PORT ...", for tests only: the first port tried
# for that component, unchecked, as if another process took it between the pick and the bind.
source "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TESTENV_DIR:-$ROOT/.testenv}"
mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"

# The components up starts, in order; `down` stops them last, in reverse.
CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager lowkey-vault)

# Everything with a pid file: first what runs on the control plane (the demo's operator), then
# the control plane in the reverse order of its start.
stop_all() {
  local f name i
  for f in "$DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f" .pid)"
    is_control_plane "$name" || stop_pid_file "$f"
  done
  for ((i = ${#CONTROL_PLANE[@]} - 1; i >= 0; i--)); do
    [[ -e "$DIR/${CONTROL_PLANE[i]}.pid" ]] && stop_pid_file "$DIR/${CONTROL_PLANE[i]}.pid"
  done
  return 0
}
is_control_plane() { [[ " ${CONTROL_PLANE[*]} " == *" $1 "* ]]; }

# The control plane of $DIR/env runs: each component up started is its own live process.
control_plane_running() {
  local name
  [[ -f "$DIR/env" ]] || return 1
  for name in "${CONTROL_PLANE[@]}"; do
    [[ -f "$DIR/$name.cmd" ]] || continue
    live_pid "$DIR/$name.pid" >/dev/null || return 1
  done
}

# One component down (its data stays), or up again exactly as `up` started it.
stop_one() {
  local name="$1"
  [[ -f "$DIR/$name.cmd" ]] || die "no component $name in $DIR"
  [[ -f "$DIR/$name.pid" ]] && stop_pid_file "$DIR/$name.pid"
  return 0
}
start_one() {
  local name="$1"
  [[ -f "$DIR/$name.cmd" ]] || die "no component $name in $DIR"
  if live_pid "$DIR/$name.pid" >/dev/null; then return 0; fi
  eval "start_bg $name $(cat "$DIR/$name.cmd")"
  if [[ -f "$DIR/$name.health" ]]; then
    wait_healthy "$name" 90 || { last_lines "$name"; die "$name did not become healthy again"; }
  fi
}

# A process of the environment's user (the demo's operator), started unless it runs already.
run_process() { # name command...
  local name="$1" pid
  shift
  [[ "$name" =~ ^[a-z0-9-]+$ ]] || die "a process name is lower-case letters, digits and dashes: $name"
  is_control_plane "$name" && die "$name is a component of the control plane; use start $name"
  if pid="$(live_pid "$DIR/$name.pid")"; then
    echo "$name already running (pid $pid, logs in $DIR/$name.log)"
    return 0
  fi
  start_bg "$name" "$@"
  echo "$name started (pid $(cat "$DIR/$name.pid"), logs in $DIR/$name.log)"
}

binaries() {
  if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
    local b
    for b in etcd kube-apiserver kubectl; do
      [[ -x "$KUBEBUILDER_ASSETS/$b" ]] || die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $b"
    done
    ETCD_BIN="$KUBEBUILDER_ASSETS/etcd"; APISERVER_BIN="$KUBEBUILDER_ASSETS/kube-apiserver"; KUBECTL_DIR="$KUBEBUILDER_ASSETS"
    # envtest's assets have no kube-controller-manager: then no garbage collector runs.
    KCM_BIN="$KUBEBUILDER_ASSETS/kube-controller-manager"
  else
    local k8s etcd
    k8s="$("$ROOT/hack/build-k8s.sh")"; etcd="$("$ROOT/hack/build-etcd.sh")"
    ETCD_BIN="$etcd/etcd"; APISERVER_BIN="$k8s/kube-apiserver"; KUBECTL_DIR="$k8s"
    KCM_BIN="$k8s/kube-controller-manager"
  fi
}

client_cert() { # name CN O
  local name="$1" cn="$2" org="$3" subj="/CN=$2"
  [[ -n "$org" ]] && subj="/O=$org/CN=$cn"
  openssl req -newkey rsa:2048 -nodes -keyout "$DIR/pki/$name.key" -subj "$subj" -out "$DIR/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/pki/$name.csr" -CA "$DIR/pki/client-ca.crt" -CAkey "$DIR/pki/client-ca.key" \
    -CAcreateserial -days 7 -out "$DIR/pki/$name.crt" 2>/dev/null
}

make_pki() {
  mkdir -p "$DIR/pki"
  local p="$DIR/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=b2b-testenv-server-ca" \
    -keyout "$p/server-ca.key" -out "$p/server-ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$p/server.key" -out "$p/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$p/server.ext"
  openssl x509 -req -in "$p/server.csr" -CA "$p/server-ca.crt" -CAkey "$p/server-ca.key" -CAcreateserial \
    -days 7 -extfile "$p/server.ext" -out "$p/server.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=b2b-testenv-client-ca" \
    -keyout "$p/client-ca.key" -out "$p/client-ca.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  client_cert admin admin system:masters
  client_cert operator b2b-operator ""
}

kubeconfig() { # file user
  local file="$1" user="$2"
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: testenv
    cluster:
      server: https://127.0.0.1:$API_PORT
      certificate-authority: $DIR/pki/server-ca.crt
users:
  - name: $user
    user:
      client-certificate: $DIR/pki/$user.crt
      client-key: $DIR/pki/$user.key
contexts:
  - name: $user
    context: { cluster: testenv, user: $user }
current-context: $user
KC
}

launch_garbage_collector() {
  local port
  port="$(pick_port kube-controller-manager)"
  start_bg kube-controller-manager "$KCM_BIN" --kubeconfig="$DIR/admin.kubeconfig" \
    --authentication-kubeconfig="$DIR/admin.kubeconfig" --authorization-kubeconfig="$DIR/admin.kubeconfig" \
    --controllers=garbagecollector --leader-elect=false --use-service-account-credentials=false \
    --bind-address=127.0.0.1 --secure-port="$port" --cert-dir="$DIR/kcm"
  health_check kube-controller-manager curl -sfk --max-time 5 "https://127.0.0.1:$port/healthz"
  listens kube-controller-manager "$port"
}

# kube-controller-manager with only the garbage collector, as a cluster runs it, so deleting
# an owner (background or foreground) really deletes its dependents. Serves its health on
# loopback only; uses the admin's client certificate.
start_garbage_collector() {
  if [[ ! -x "$KCM_BIN" ]]; then
    echo "warning: no kube-controller-manager at $KCM_BIN: the garbage collector does not run" >&2
    return 0
  fi
  mkdir -p "$DIR/kcm"
  start_on_free_ports kube-controller-manager 60 launch_garbage_collector
  echo "export B2B_TEST_GARBAGE_COLLECTOR=1" >>"$DIR/env.tmp"
  "$KCM_BIN" --version | sed 's/^Kubernetes/kube-controller-manager/' >>"$DIR/versions"
}

launch_vault_emulator() {
  VAULT_PORT="$(pick_port lowkey-vault)"; TOKEN_PORT="$(free_port)"
  # Both ports on loopback: server.address binds the HTTPS port, the XML source the token port.
  # The vaults https://localhost:<port> and https://127.0.0.1:<port> are always registered.
  start_bg lowkey-vault "$VAULT_JAVA" -Xmx256m -XX:+UseSerialGC -jar "$VAULT_JAR" \
    --server.address=127.0.0.1 --server.port="$VAULT_PORT" --app.token.port="$TOKEN_PORT" \
    --spring.main.sources="file:$ROOT/hack/lowkey-vault-loopback.xml" --spring.main.allow-bean-definition-overriding=true
  health_check lowkey-vault curl -sf --max-time 5 "http://127.0.0.1:$TOKEN_PORT/ping"
  listens lowkey-vault "$VAULT_PORT" "$TOKEN_PORT"
}

# The Key Vault emulator, when its jar can be obtained (hack/build-lowkey-vault.sh). Without
# one, the vault tests skip and say how to provide it; under CI=true that is an error.
start_vault_emulator() {
  local jar java rc=0
  if [[ "${TESTENV_VAULT_EMULATOR:-1}" == 0 ]]; then return 0; fi
  jar="$("$ROOT/hack/build-lowkey-vault.sh")" || rc=$?
  if ((rc == 2)); then
    [[ "${CI:-}" == true ]] && die "CI=true needs the Key Vault emulator (see the line above)"
    echo "warning: Key Vault emulator not started; the vault tests will be skipped" >&2
    return 0
  fi
  ((rc == 0)) || die "could not obtain the Key Vault emulator's jar (hack/build-lowkey-vault.sh)"
  VAULT_JAVA="$(find_java25)"; VAULT_JAR="$jar"
  start_on_free_ports lowkey-vault 180 launch_vault_emulator
  java="$VAULT_JAVA"
  local pw
  pw="$(curl -sf "http://127.0.0.1:$TOKEN_PORT/metadata/default-cert/password")"
  curl -sf -o "$DIR/pki/lowkey-vault.p12" "http://127.0.0.1:$TOKEN_PORT/metadata/default-cert/lowkey-vault.p12"
  openssl pkcs12 -in "$DIR/pki/lowkey-vault.p12" -passin "pass:$pw" -nokeys -clcerts 2>/dev/null \
    | openssl x509 -out "$DIR/pki/lowkey-vault-ca.crt" || die "could not read the emulator's TLS certificate"
  local vault="https://localhost:$VAULT_PORT"
  # A live vault: a key that does not exist answers Key Vault's 404, not "Unable to find active vault".
  curl -s --cacert "$DIR/pki/lowkey-vault-ca.crt" -H 'Authorization: Bearer testenv' \
    "$vault/keys/testenv-probe?api-version=7.6" | grep -q 'Key not found' \
    || die "the emulator at $vault has no active vault (see $DIR/lowkey-vault.log)"
  {
    echo "export B2B_TEST_VAULT_URL=$vault"
    echo "export NODE_EXTRA_CA_CERTS=$DIR/pki/lowkey-vault-ca.crt"
    echo "export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$TOKEN_PORT"
    # `make run` reads it: the operator may talk to this emulator and to no other non-Azure host.
    echo "export B2B_ALLOWED_VAULT_HOSTS=localhost:$VAULT_PORT"
  } >>"$DIR/env.tmp"
  echo "Lowkey Vault $(basename "$(dirname "$jar")") on Java $("$java" -version 2>&1 | sed -n 1p)" >>"$DIR/versions"
}

launch_etcd() {
  local peer_port
  ETCD_PORT="$(pick_port etcd)"; peer_port="$(free_port)"
  rm -rf "$DIR/etcd-data"
  start_bg etcd "$ETCD_BIN" --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" --unsafe-no-fsync=true
  health_check etcd curl -sf --max-time 5 "http://127.0.0.1:$ETCD_PORT/health"
  listens etcd "$ETCD_PORT" "$peer_port"
}

# ConfigMaps bypass the watch cache and etcd is compacted every 10 s, so a watch from an old
# resourceVersion really gets 410 Gone (the informer tests rely on it).
launch_apiserver() {
  API_PORT="$(pick_port kube-apiserver)"
  start_bg kube-apiserver "$APISERVER_BIN" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --secure-port="$API_PORT" --bind-address=127.0.0.1 --cert-dir="$DIR/pki" \
    --tls-cert-file="$DIR/pki/server.crt" --tls-private-key-file="$DIR/pki/server.key" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true --etcd-compaction-interval=10s --watch-cache-sizes=configmaps#0 \
    --disable-admission-plugins=ServiceAccount --authorization-mode=RBAC \
    --service-account-issuer="https://127.0.0.1:$API_PORT/" --service-account-key-file="$DIR/pki/sa.pub" \
    --service-account-signing-key-file="$DIR/pki/sa.key" --client-ca-file="$DIR/pki/client-ca.crt"
  kubeconfig "$DIR/admin.kubeconfig" admin
  kubeconfig "$DIR/operator.kubeconfig" operator
  health_check kube-apiserver "$KUBECTL_DIR/kubectl" --kubeconfig "$DIR/admin.kubeconfig" --request-timeout=5s get --raw /readyz
  listens kube-apiserver "$API_PORT"
}

up() {
  if control_plane_running; then echo "testenv already running: $DIR/env"; return 0; fi
  [[ -f "$DIR/env" ]] && echo "the testenv in $DIR is not running (see \`$0 status\`): starting a new one, without its data" >&2
  stop_all
  command -v openssl >/dev/null 2>&1 || die "openssl is needed (apt-get install openssl)"
  command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
  binaries
  rm -rf "$DIR/etcd-data" "$DIR/pki" "$DIR/env" "$DIR/env.tmp" "$DIR"/*.cmd "$DIR"/*.health "$DIR"/*.ports "$DIR"/*.log
  # Whatever stops `up` (a failed command or die) stops what it started.
  trap '[[ -f "$DIR/env" ]] || { echo "testenv failed to start; stopping what was started" >&2; stop_all; }' EXIT
  make_pki
  start_on_free_ports etcd 60 launch_etcd
  start_on_free_ports kube-apiserver 90 launch_apiserver
  # The operator's user gets exactly the ClusterRole and leader-election Role shipped in deploy/.
  "$KUBECTL_DIR/kubectl" --kubeconfig "$DIR/admin.kubeconfig" apply -f "$ROOT/deploy/rbac.yaml" >/dev/null
  "$KUBECTL_DIR/kubectl" --kubeconfig "$DIR/admin.kubeconfig" apply -f "$ROOT/hack/testenv-operator-user.yaml" >/dev/null
  {
    echo "export KUBECONFIG=$DIR/admin.kubeconfig"
    echo "export B2B_OPERATOR_KUBECONFIG=$DIR/operator.kubeconfig"
    echo "export PATH=$KUBECTL_DIR:\$PATH"
  } >"$DIR/env.tmp"
  {
    "$APISERVER_BIN" --version
    "$ETCD_BIN" --version | sed -n 1p
    "$KUBECTL_DIR/kubectl" version --client | sed -n 1p
  } >"$DIR/versions"
  start_garbage_collector
  start_vault_emulator
  mv "$DIR/env.tmp" "$DIR/env"
  trap - EXIT
  echo "testenv up: $("$KUBECTL_DIR/kubectl" --kubeconfig "$DIR/admin.kubeconfig" version -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | tail -1) at https://127.0.0.1:$API_PORT; . $DIR/env"
}

status() {
  [[ -f "$DIR/env" ]] || { echo "testenv is not running"; return 1; }
  local f ok=0
  for f in "$DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    if live_pid "$f" >/dev/null; then echo "$(basename "$f" .pid): running"; else echo "$(basename "$f" .pid): dead"; ok=1; fi
  done
  return $ok
}

down() { stop_all; rm -f "$DIR/env"; echo "testenv down"; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  stop) stop_one "${2:?usage: $0 stop COMPONENT}" ;;
  start) start_one "${2:?usage: $0 start COMPONENT}" ;;
  run) shift; (($# >= 2)) || die "usage: $0 run NAME COMMAND..."; run_process "$@" ;;
  *) die "usage: $0 up|down|status|stop COMPONENT|start COMPONENT|run NAME COMMAND..." ;;
esac
