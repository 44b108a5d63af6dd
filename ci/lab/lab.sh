#!/usr/bin/env bash
# lab.sh: builds and removes the censorship lab: five network namespaces
# (client, censor router, servers, resolvers, control), the lab PKI, unbound
# resolvers, nginx servers and the censor's own servers.
#
#   lab.sh up|down|status [--prefix P] [--rundir D]
#   lab.sh exec client|censor|servers|resolvers|control CMD... [--prefix P]
#
# Every lab address 198.18.N.H has an IPv6 twin 2001:2:0:N::H on the same
# interface (derive_catalog.py twin6). It must never give any namespace a
# default route (IPv4 or IPv6) or an address outside 198.18.0.0/15 and
# 2001:2::/48, and never touch processes or namespaces it did not create.
# `down` is idempotent and also runs when `up` fails or is interrupted.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}

usage() {
  sed -n '2,12p' "$0" >&2
  exit 2
}

die() { echo "lab.sh: $*" >&2; exit 1; }

# The IPv6 twin of a lab address (198.18.N.H[/24] -> 2001:2:0:N::H[/64]),
# as derive_catalog.py's twin6 writes it: N and H with their decimal digits.
twin6() {
  local a=${1%/*} plen=
  [[ "$1" == */* ]] && plen=${1#*/}
  [[ "$a" =~ ^198\.18\.([0-9]+)\.([0-9]+)$ ]] || die "no IPv6 twin for '$1'"
  case "$plen" in
    "") echo "2001:2:0:${BASH_REMATCH[1]}::${BASH_REMATCH[2]}" ;;
    24) echo "2001:2:0:${BASH_REMATCH[1]}::${BASH_REMATCH[2]}/64" ;;
    32) echo "2001:2:0:${BASH_REMATCH[1]}::${BASH_REMATCH[2]}/128" ;;
    *) die "no IPv6 twin for '$1'" ;;
  esac
}

cmd=${1:-}; [ -n "$cmd" ] || usage; shift
PREFIX=${LAB_PREFIX:-}
RUNDIR=${LAB_RUNDIR:-}
CATALOG_DIR=${LAB_CATALOG_DIR:-$REPO_DIR/tests_catalog}
exec_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --rundir) RUNDIR=$2; shift 2 ;;
    --catalog-dir) CATALOG_DIR=$2; shift 2 ;;
    --) shift; exec_args+=("$@"); break ;;
    *) exec_args+=("$1"); shift ;;
  esac
done
[ -n "$PREFIX" ] || PREFIX="vl$$-"
[[ "$PREFIX" =~ ^[A-Za-z0-9_.-]{1,20}$ ]] || die "bad prefix '$PREFIX'"
[ -n "$RUNDIR" ] || RUNDIR="/tmp/vantage-lab/${PREFIX%-}"

NS_CLIENT=${PREFIX}client
NS_CENSOR=${PREFIX}censor
NS_SERVERS=${PREFIX}servers
NS_RESOLVERS=${PREFIX}resolvers
NS_CONTROL=${PREFIX}control
ALL_NS=("$NS_CLIENT" "$NS_CENSOR" "$NS_SERVERS" "$NS_RESOLVERS" "$NS_CONTROL")

ns_of() {
  case "$1" in
    client) echo "$NS_CLIENT" ;; censor) echo "$NS_CENSOR" ;;
    servers) echo "$NS_SERVERS" ;; resolvers) echo "$NS_RESOLVERS" ;;
    control) echo "$NS_CONTROL" ;; *) die "unknown namespace role '$1'" ;;
  esac
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Starts a long-running program in a namespace, records its pid.
start_bg() {
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$@" >"$RUNDIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUNDIR/pids/$name.pid"
}

wait_for() {  # wait_for DESCRIPTION TRIES CMD...
  local what=$1 tries=$2; shift 2
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up (see $RUNDIR/logs)"
}

make_pki() {
  local pki=$RUNDIR/pki
  mkdir -p "$pki"
  local sans
  sans=$($PY -c 'import json,sys; print(",".join("DNS:"+h for h in sorted(json.load(open(sys.argv[1])))))' "$RUNDIR/hosts.json")
  make_ca "$pki/lab-ca" "Vantage Lab Root CA"
  make_leaf "$pki/lab-ca" "$pki/lab-server" "vantage lab servers" "$sans"
  # The client's resolver also serves DoT (:853) and DoH (:443 /dns-query).
  make_leaf "$pki/lab-ca" "$pki/lab-dns" "vantage lab resolver" "DNS:dns.lab.vantage,IP:198.18.3.53"
  make_ca "$pki/censor-ca" "Lab Censor Interception CA"
  make_leaf "$pki/censor-ca" "$pki/censor-server" "lab censor mitm" "$sans"
}

make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
    -keyout "$1.key" -out "$1.pem" -subj "/O=Vantage Lab/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

make_leaf() {  # make_leaf CA OUT CN SANS
  local ca=$1 out=$2
  openssl req -newkey rsa:2048 -nodes -keyout "$out.key" -out "$out.csr" \
    -subj "/O=Vantage Lab/CN=$3" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$4" >"$out.ext"
  openssl x509 -req -in "$out.csr" -CA "$ca.pem" -CAkey "$ca.key" \
    -CAcreateserial -days 30 -sha256 -extfile "$out.ext" -out "$out.pem" 2>/dev/null
  cat "$out.pem" "$ca.pem" >"$out.chain.pem"
}

nginx_common() {  # nginx_common DIR
  cat <<EOF
user root;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log $1/access.log;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  default_type text/plain;
  keepalive_timeout 10;
  client_header_timeout 10;
  client_body_timeout 10;
  send_timeout 60;
  server_tokens off;
EOF
}

write_server_nginx() {
  local d=$RUNDIR/nginx
  mkdir -p "$d/tmp" "$RUNDIR/www"
  # >= 4 MB body for endpoints that measure throughput.
  head -c $((4 * 1024 * 1024 + 65536)) /dev/urandom >"$RUNDIR/www/large.bin"
  {
    nginx_common "$d"
    cat <<'EOF'
  map $remote_addr $lab_seen_dashed { "~^(\d+)\.(\d+)\.(\d+)\.(\d+)$" "ip-$1-$2-$3-$4.pool.lab"; default ""; }
  map $remote_addr $lab_seen_reverse { "~^(\d+)\.(\d+)\.(\d+)\.(\d+)$" "$4.$3.$2.$1.in-addr.arpa"; default ""; }
EOF
    cat <<EOF
  include $d/scenario.d/*.conf;
  server {
    listen 80 default_server backlog=1024;
    listen 8080 default_server backlog=1024;
    listen 443 ssl default_server backlog=1024;
    listen [::]:80 default_server backlog=1024;
    listen [::]:8080 default_server backlog=1024;
    listen [::]:443 ssl default_server backlog=1024;
    server_name _;
    ssl_certificate $RUNDIR/pki/lab-server.chain.pem;
    ssl_certificate_key $RUNDIR/pki/lab-server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header X-Lab-Server servers always;
    # Echoes the address the server sees, in the spellings real servers use
    # (plain, an ISP-style dashed hostname, reverse DNS): the privacy test
    # checks the probe scrubs them all.
    add_header X-Lab-Seen-From "\$remote_addr \$lab_seen_dashed \$lab_seen_reverse" always;
EOF
    $PY -c 'import json,sys
for p in json.load(open(sys.argv[1])):
    print("    location = %s { alias %s; default_type application/octet-stream; }" % (p, sys.argv[2]))' \
      "$RUNDIR/throughput.json" "$RUNDIR/www/large.bin"
    # WeChat's HTTP-DNS service (tests_catalog/wechat.json, dns_service):
    # an XML server list shaped like the real one's (dns > domainlist >
    # domain name= > ip, builtiniplist, clientip), of WeChat's lab names
    # and addresses; clientip is the address the server sees.
    $PY -c 'import json,sys
hosts = json.load(open(sys.argv[1]))
names = json.load(open(sys.argv[2])).get("wechat", [])
domains = "".join("<domain name=\"%s\" timeout=\"1800\"><ip>%s</ip></domain>" % (n, hosts[n]) for n in names if n in hosts)
xml = "<dns><domainlist>%s</domainlist><builtiniplist></builtiniplist><clientip>$remote_addr</clientip></dns>" % domains
print("    location = /cgi-bin/micromsg-bin/newgetdns { default_type text/xml; return 200 \x27%s\\n\x27; }" % xml)' \
      "$RUNDIR/hosts.json" "$RUNDIR/services.json"
    cat <<EOF
    # Signal's chat WebSocket (the signal_websocket exchange, sent inside
    # TLS to chat.signal.org): the upgrade goes to labserve.py websocket,
    # which answers 101 Switching Protocols.
    location = /v1/websocket/ {
      proxy_pass http://127.0.0.1:5280;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host \$host;
    }
    location / { return 200 "ok\n"; }
  }
EOF
    # Endpoints reached by address with plain HTTP (Telegram's data centres,
    # which speak HTTP even on 443): answered as the real ones answer OONI's
    # POST to / (nginx's 404 page). A listen on the address itself beats the
    # wildcard ssl one, so 443 is plain HTTP there only.
    $PY -c 'import json,sys
sys.path.insert(0, sys.argv[2])
from derive_catalog import twin6
listen = json.load(open(sys.argv[1]))
if listen:
    print("  server {")
    for a in listen:
        ip, port = a.rsplit(":", 1)
        print("    listen %s;" % a)
        print("    listen [%s]:%s;" % (twin6(ip), port))
    print("    server_name _;")
    print("    add_header X-Lab-Server servers-plain always;")
    print("    add_header X-Lab-Seen-From \"$remote_addr $lab_seen_dashed $lab_seen_reverse\" always;")
    print("    location / { return 404; }")
    print("  }")' "$RUNDIR/plain_http.json" "$LAB_DIR"
    echo "}"
  } >"$d/nginx.conf"
}

write_censor_nginx() {
  local d=$RUNDIR/censor-nginx
  mkdir -p "$d/tmp"
  {
    nginx_common "$d"
    cat <<EOF
  server {
    listen 198.18.1.1:8443 ssl default_server backlog=1024;
    listen [2001:2:0:1::1]:8443 ssl default_server backlog=1024;
    server_name _;
    ssl_certificate $RUNDIR/pki/censor-server.chain.pem;
    ssl_certificate_key $RUNDIR/pki/censor-server.key;
    add_header X-Lab-Server censor-mitm always;
    location / { return 200 "intercepted by the lab censor\n"; }
  }
}
EOF
  } >"$d/nginx.conf"
}

write_env() {
  cat >"$RUNDIR/lab.env" <<EOF
LAB_PREFIX=$PREFIX
LAB_RUNDIR=$RUNDIR
NS_CLIENT=$NS_CLIENT
NS_CENSOR=$NS_CENSOR
NS_SERVERS=$NS_SERVERS
NS_RESOLVERS=$NS_RESOLVERS
NS_CONTROL=$NS_CONTROL
CLIENT_IP=198.18.1.2
CLIENT_NET=198.18.1.0/24
CLIENT_IP6=2001:2:0:1::2
CLIENT_NET6=2001:2:0:1::/64
CENSOR_CLIENT_SIDE_IP=198.18.1.1
CENSOR_CLIENT_SIDE_IP6=2001:2:0:1::1
CLIENT_RESOLVER=198.18.3.53
CLIENT_RESOLVER_TLS_NAME=dns.lab.vantage
CONTROL_RESOLVER=198.18.3.54
CONTROL_IP=198.18.5.10
CONTROL_IP6=2001:2:0:5::10
BOGON_IP=10.10.34.34
EOF
}

link() {  # link NS_A IF_A ADDR_A NS_B IF_B ADDR_B (each address with its IPv6 twin)
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" addr add "$(twin6 "$3")" dev "$2" nodad
  ip -n "$4" addr add "$(twin6 "$6")" dev "$5" nodad
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

# No default route in either family, and every address inside the lab's
# ranges (link-local fe80::/10 and loopback aside).
check_confined() {
  local ns=$1 a
  if ip -n "$ns" -4 route show default | grep -q .; then die "IPv4 default route in $ns"; fi
  if ip -n "$ns" -6 route show default | grep -q .; then die "IPv6 default route in $ns"; fi
  for a in $(ip -n "$ns" -o -4 addr show | awk '{print $4}'); do
    $PY -c 'import ipaddress,sys; a=ipaddress.ip_interface(sys.argv[1]).ip; sys.exit(0 if a.is_loopback or a in ipaddress.ip_network("198.18.0.0/15") else 1)' "$a" \
      || die "$ns has $a, outside 198.18.0.0/15"
  done
  for a in $(ip -n "$ns" -o -6 addr show scope global | awk '{print $4}'); do
    $PY -c 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_interface(sys.argv[1]).ip in ipaddress.ip_network("2001:2::/48") else 1)' "$a" \
      || die "$ns has $a, outside 2001:2::/48"
  done
}

lab_up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  for t in ip iptables ip6tables nft unbound nginx openssl "$PY"; do
    command -v "$t" >/dev/null || die "missing $t (run ci/install-deps.sh)"
  done
  if ip netns list | grep -q "^${NS_CENSOR}\b"; then
    echo "lab.sh: lab $PREFIX exists, recreating" >&2
    lab_down
  fi
  trap 'echo "lab.sh: up failed, tearing down" >&2; lab_down; exit 1' ERR
  trap 'echo "lab.sh: interrupted, tearing down" >&2; lab_down; exit 130' INT TERM
  mkdir -p "$RUNDIR/pids" "$RUNDIR/logs"
  chmod 755 "$RUNDIR"

  $PY "$LAB_DIR/derive_catalog.py" --catalog-dir "$CATALOG_DIR" --rundir "$RUNDIR"
  make_pki
  $PY "$LAB_DIR/derive_catalog.py" --catalog-dir "$CATALOG_DIR" --rundir "$RUNDIR" --with-catalog
  write_env

  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  link "$NS_CENSOR" c-client 198.18.1.1/24 "$NS_CLIENT" eth0 198.18.1.2/24
  link "$NS_CENSOR" c-servers 198.18.2.1/24 "$NS_SERVERS" eth0 198.18.2.2/24
  link "$NS_CENSOR" c-resolvers 198.18.3.1/24 "$NS_RESOLVERS" eth0 198.18.3.2/24
  link "$NS_CENSOR" c-control 198.18.5.1/24 "$NS_CONTROL" eth0 198.18.5.10/24
  ip -n "$NS_CLIENT" route add 198.18.0.0/15 via 198.18.1.1
  ip -n "$NS_SERVERS" route add 198.18.0.0/15 via 198.18.2.1
  ip -n "$NS_RESOLVERS" route add 198.18.0.0/15 via 198.18.3.1
  ip -n "$NS_CONTROL" route add 198.18.0.0/15 via 198.18.5.1
  ip -n "$NS_CLIENT" -6 route add 2001:2::/48 via 2001:2:0:1::1
  ip -n "$NS_SERVERS" -6 route add 2001:2::/48 via 2001:2:0:2::1
  ip -n "$NS_RESOLVERS" -6 route add 2001:2::/48 via 2001:2:0:3::1
  ip -n "$NS_CONTROL" -6 route add 2001:2::/48 via 2001:2:0:5::1
  for ip4 in 198.18.3.53 198.18.3.54; do
    ip -n "$NS_RESOLVERS" addr add "$ip4/32" dev eth0
    ip -n "$NS_RESOLVERS" addr add "$(twin6 "$ip4/32")" dev eth0 nodad
  done
  # dns_servfail forwards names here: sending fails at once, nothing leaves.
  ip -n "$NS_RESOLVERS" route add unreachable 198.18.3.99/32
  # Every name's lab address, and the lab address each address literal of
  # the catalog stands for (never the real one).
  for ip4 in $($PY -c 'import json,sys; print("\n".join(sorted({ip for f in sys.argv[1:] for ip in json.load(open(f)).values()})))' "$RUNDIR/hosts.json" "$RUNDIR/addresses.json"); do
    ip -n "$NS_SERVERS" addr add "$ip4/32" dev eth0
    ip -n "$NS_SERVERS" addr add "$(twin6 "$ip4/32")" dev eth0 nodad
  done
  in_ns "$NS_CENSOR" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$NS_CENSOR" sysctl -qw net.ipv6.conf.all.forwarding=1
  # client_offline takes the client's link down: its IPv6 address stays.
  in_ns "$NS_CLIENT" sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
  for ns in "${ALL_NS[@]}"; do
    in_ns "$ns" sysctl -qw net.core.somaxconn=4096
    check_confined "$ns"
  done

  mkdir -p "/etc/netns/$NS_CLIENT" "/etc/netns/$NS_CONTROL"
  echo "nameserver 198.18.3.53" >"/etc/netns/$NS_CLIENT/resolv.conf"
  echo "nameserver 198.18.3.54" >"/etc/netns/$NS_CONTROL/resolv.conf"

  # Resolvers.
  for role in client control; do
    conf=$($PY "$LAB_DIR/labdns.py" "$RUNDIR" "$role")
    unbound-checkconf "$conf" >/dev/null
    in_ns "$NS_RESOLVERS" unbound -c "$conf"
  done
  wait_for "client resolver" 50 in_ns "$NS_CLIENT" dig +short +time=1 +tries=1 @198.18.3.53 chat.signal.org
  wait_for "client resolver (DoT)" 50 in_ns "$NS_CLIENT" dig +short +time=1 +tries=1 +tls +tls-ca="$RUNDIR/pki/lab-ca.pem" -p 853 @198.18.3.53 chat.signal.org
  wait_for "control resolver" 50 in_ns "$NS_CONTROL" dig +short +time=1 +tries=1 @198.18.3.54 chat.signal.org

  # Servers.
  write_server_nginx
  nginx -t -q -e "$RUNDIR/nginx/error.log" -c "$RUNDIR/nginx/nginx.conf" -p "$RUNDIR/nginx"
  in_ns "$NS_SERVERS" nginx -e "$RUNDIR/nginx/error.log" -c "$RUNDIR/nginx/nginx.conf" -p "$RUNDIR/nginx"
  # WhatsApp's chat servers answer the app's opening bytes (labserve.py
  # whatsapp) on 5222 and on 443 of the chat addresses (exchanges.json):
  # nginx owns *:443, so those are redirected in the servers' namespace to a
  # second listener on 5223 (not 5222: an outage of 5222 alone must leave
  # 443 working).
  start_bg "$NS_SERVERS" tcp5222 "$PY" "$LAB_DIR/labserve.py" whatsapp 0.0.0.0,:: 5222
  start_bg "$NS_SERVERS" whatsapp443 "$PY" "$LAB_DIR/labserve.py" whatsapp 0.0.0.0,:: 5223
  # Signal's chat WebSocket, behind nginx's /v1/websocket/ (loopback only).
  start_bg "$NS_SERVERS" websocket "$PY" "$LAB_DIR/labserve.py" websocket 127.0.0.1 5280
  for a in $($PY -c 'import json,sys
for a in json.load(open(sys.argv[1])).get("whatsapp_noise", []):
    if not a.endswith(":5222"): print(a)' "$RUNDIR/exchanges.json"); do
    in_ns "$NS_SERVERS" iptables -w -t nat -A PREROUTING -d "${a%:*}" -p tcp --dport "${a##*:}" -j REDIRECT --to-ports 5223
    in_ns "$NS_SERVERS" ip6tables -w -t nat -A PREROUTING -d "$(twin6 "${a%:*}")" -p tcp --dport "${a##*:}" -j REDIRECT --to-ports 5223
  done
  # WeChat's long-link servers answer MMTLS's opening record (labserve.py
  # wechat) on 80, 443 and 8080 of the long-link addresses (exchanges.json),
  # all owned by nginx: redirected to a listener of their own on 5224.
  start_bg "$NS_SERVERS" wechat5224 "$PY" "$LAB_DIR/labserve.py" wechat 0.0.0.0,:: 5224
  for a in $($PY -c 'import json,sys
for a in json.load(open(sys.argv[1])).get("wechat_mmtls", []): print(a)' "$RUNDIR/exchanges.json"); do
    in_ns "$NS_SERVERS" iptables -w -t nat -A PREROUTING -d "${a%:*}" -p tcp --dport "${a##*:}" -j REDIRECT --to-ports 5224
    in_ns "$NS_SERVERS" ip6tables -w -t nat -A PREROUTING -d "$(twin6 "${a%:*}")" -p tcp --dport "${a##*:}" -j REDIRECT --to-ports 5224
  done

  # The censor's own servers: only reached through its nat REDIRECT rules.
  write_censor_nginx
  in_ns "$NS_CENSOR" nginx -e "$RUNDIR/censor-nginx/error.log" -c "$RUNDIR/censor-nginx/nginx.conf" -p "$RUNDIR/censor-nginx"
  start_bg "$NS_CENSOR" blockpage "$PY" "$LAB_DIR/labserve.py" blockpage 198.18.1.1,2001:2:0:1::1 8081
  # The collector operator's DNS: answers resolver-echo.lab.vantage with the
  # querying resolver's address (the client resolver delegates the name to it).
  start_bg "$NS_CONTROL" dnsecho "$PY" "$LAB_DIR/labserve.py" dnsecho 198.18.5.10 53

  wait_for "nginx (servers)" 50 in_ns "$NS_CLIENT" curl -4 -sf -m 2 --cacert "$RUNDIR/pki/lab-ca.pem" https://chat.signal.org/
  wait_for "nginx (servers, IPv6)" 50 in_ns "$NS_CLIENT" curl -6 -sf -m 2 --cacert "$RUNDIR/pki/lab-ca.pem" https://chat.signal.org/
  wait_for "tcp listener 5222 (IPv6)" 50 in_ns "$NS_CLIENT" bash -c 'exec 3<>/dev/tcp/2001:2:0:2::10/5222'
  wait_for "tcp listener 5222" 50 in_ns "$NS_CLIENT" bash -c 'exec 3<>/dev/tcp/198.18.2.10/5222'
  wait_for "whatsapp listener 5223" 50 in_ns "$NS_SERVERS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5223'
  wait_for "wechat listener 5224" 50 in_ns "$NS_SERVERS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5224'
  wait_for "websocket listener 5280" 50 in_ns "$NS_SERVERS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5280'
  wait_for "censor mitm nginx" 50 in_ns "$NS_CENSOR" bash -c 'exec 3<>/dev/tcp/198.18.1.1/8443'
  wait_for "censor block page" 50 in_ns "$NS_CENSOR" bash -c 'exec 3<>/dev/tcp/198.18.1.1/8081'
  wait_for "resolver echo" 50 in_ns "$NS_CLIENT" bash -c '[ -n "$(dig +short +time=1 +tries=1 @198.18.3.53 resolver-echo.lab.vantage)" ]'
  wait_for "control path" 50 in_ns "$NS_CONTROL" curl -4 -sf -m 2 --cacert "$RUNDIR/pki/lab-ca.pem" https://chat.signal.org/
  wait_for "control path (IPv6)" 50 in_ns "$NS_CONTROL" curl -6 -sf -m 2 --cacert "$RUNDIR/pki/lab-ca.pem" https://chat.signal.org/

  trap - ERR INT TERM
  echo "lab $PREFIX up: rundir $RUNDIR"
}

# Whether PID still runs. A program started in the background by `up` was
# adopted by PID 1 when `up` exited, and some PID 1s (a container's) reap
# their orphans only every second or two: until then the exited program is a
# zombie, which `kill -0` still finds. A zombie has exited.
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

kill_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && running "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do running "$pid" || break; sleep 0.02; done
    running "$pid" && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

lab_down() {
  set +e
  local f ns pid
  for f in "$RUNDIR"/pids/*.pid "$RUNDIR"/nginx/nginx.pid "$RUNDIR"/censor-nginx/nginx.pid \
           "$RUNDIR"/unbound/*.pid; do
    [ -e "$f" ] && kill_pidfile "$f"
  done
  # Anything still running inside our namespaces was started for this lab.
  for ns in "${ALL_NS[@]}"; do
    if [ -e "/run/netns/$ns" ]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    fi
  done
  sleep 0.2
  for ns in "${ALL_NS[@]}"; do
    if [ -e "/run/netns/$ns" ]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
    fi
    rm -rf "/etc/netns/$ns"
  done
  set -e
  return 0
}

lab_status() {
  local ns up=0
  for ns in "${ALL_NS[@]}"; do
    if [ -e "/run/netns/$ns" ]; then
      up=$((up + 1)); echo "namespace $ns: present ($(ip netns pids "$ns" | wc -l) processes)"
    else
      echo "namespace $ns: absent"
    fi
  done
  echo "rundir: $RUNDIR"
  [ "$up" -eq ${#ALL_NS[@]} ]
}

case "$cmd" in
  up) lab_up ;;
  down) lab_down; echo "lab $PREFIX down" ;;
  status) lab_status ;;
  exec)
    [ ${#exec_args[@]} -ge 2 ] || usage
    role=${exec_args[0]}
    ns=$(ns_of "$role")
    exec ip netns exec "$ns" "${exec_args[@]:1}" ;;
  *) usage ;;
esac
