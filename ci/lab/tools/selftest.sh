#!/usr/bin/env bash
# selftest.sh — proves lab_nfq's three modes work on real traffic: builds a
# private client — router — server topology of network namespaces, puts
# lab_nfq in the router behind iptables NFQUEUE rules, and checks what real
# clients (dig, openssl s_client, a UDP prober) see. Exits non-zero if any
# check fails. Needs root.
#
# Never sends outside its namespaces: addresses are 198.18.200.0/24 and
# 198.18.201.0/24 only, no namespace has a default route, and every
# namespace is removed on exit (also on failure or interrupt).
#
# usage: selftest.sh PATH/TO/lab_nfq
set -uo pipefail

NFQ=${1:?usage: selftest.sh PATH/TO/lab_nfq}
NFQ=$(realpath "$NFQ")
HERE=$(cd "$(dirname "$0")" && pwd)
PROBE="python3 $HERE/selftest_probe.py"

PREFIX="nfqt-$$-$RANDOM"
C=$PREFIX-c   # client
R=$PREFIX-r   # router = censor
S=$PREFIX-s   # servers
CLIENT_IP=198.18.200.2
SERVER_IP=198.18.201.10
NO_SERVER_IP=198.18.201.20   # on the server link, but nobody has it
FORGED_IP=198.18.201.99
WORK=$(mktemp -d /tmp/nfqt.XXXXXX)
BG_PIDS=()
FAILURES=0

cleanup() {
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "$C" "$R" "$S"; do
    # Anything still running inside our own namespaces was started by us.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
now_ms() { date +%s%3N; }

wait_for_log() {  # wait_for_log FILE PATTERN: lab_nfq logs its queue line once bound
  for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for \"$2\" in $1:"; cat "$1"; return 1
}

start_nfq() {  # start_nfq LOG ARGS...: runs lab_nfq in the router, sets NFQ_PID
  local log=$1; shift
  # Straight `ip netns exec` (it execs lab_nfq), not a shell function: a
  # function in the background is a subshell, and its pid is not lab_nfq's.
  ip netns exec "$R" "$NFQ" "$@" 2>"$log" &
  NFQ_PID=$!
  BG_PIDS+=("$NFQ_PID")
  wait_for_log "$log" "queue "
}

stop_nfq() {  # stop_nfq NAME: SIGTERM must end it with status 0
  kill -TERM "$NFQ_PID"
  wait "$NFQ_PID"
  local status=$?
  check "$1 exits 0 on SIGTERM (status $status)" test "$status" -eq 0
}

[ "$(id -u)" -eq 0 ] || { echo "selftest.sh: needs root (network namespaces, iptables)"; exit 1; }
for tool in ip iptables unbound openssl dig python3 timeout; do
  command -v "$tool" >/dev/null || { echo "selftest.sh: $tool not found (ci/install-deps.sh installs it)"; exit 1; }
done

# --- topology ------------------------------------------------------------
set -e
for ns in "$C" "$R" "$S"; do ip netns add "$ns"; in_ns "$ns" ip link set lo up; done
ip -n "$R" link add rc type veth peer name c0 netns "$C"
ip -n "$R" link add rs type veth peer name s0 netns "$S"
ip -n "$C" addr add $CLIENT_IP/24 dev c0
ip -n "$R" addr add 198.18.200.1/24 dev rc
ip -n "$R" addr add 198.18.201.1/24 dev rs
ip -n "$S" addr add $SERVER_IP/24 dev s0
for link in "$C c0" "$R rc" "$R rs" "$S s0"; do set -- $link; ip -n "$1" link set "$2" up; done
ip -n "$C" route add 198.18.201.0/24 via 198.18.200.1
ip -n "$S" route add 198.18.200.0/24 via 198.18.201.1
in_ns "$R" sysctl -qw net.ipv4.ip_forward=1

# --- servers -------------------------------------------------------------
cat >"$WORK/unbound.conf" <<CONF
server:
  interface: $SERVER_IP
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-ip6: no
  num-threads: 1
  access-control: 198.18.0.0/15 allow
  module-config: "iterator"
  local-zone: "test.example." static
  local-data: "test.example. 60 IN A $SERVER_IP"
  local-data: "www.test.example. 60 IN A $SERVER_IP"
  local-zone: "other.example." static
  local-data: "other.example. 60 IN A 198.18.201.11"
remote-control:
  control-enable: no
CONF
ip netns exec "$S" unbound -d -c "$WORK/unbound.conf" 2>"$WORK/unbound.log" &
BG_PIDS+=($!)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=lab-selftest -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# Not `openssl s_server`: it serves one connection at a time, so a handshake
# stalled by the censor would block every later test.
ip netns exec "$S" python3 "$HERE/selftest_probe.py" tls $SERVER_IP 443 "$WORK/cert.pem" "$WORK/key.pem" &
BG_PIDS+=($!)
ip netns exec "$S" python3 "$HERE/selftest_probe.py" echo $SERVER_IP 9000 &
BG_PIDS+=($!)
set +e

for _ in $(seq 50); do
  in_ns "$C" dig +short +time=1 +tries=1 @$SERVER_IP test.example A 2>/dev/null | grep -q . &&
    in_ns "$C" timeout 2 bash -c "</dev/tcp/$SERVER_IP/443" 2>/dev/null && break
  sleep 0.2
done
check "servers answer without censorship" \
  test "$(in_ns "$C" dig +short +time=2 +tries=1 @$SERVER_IP test.example A)" = "$SERVER_IP"

# --- arguments and binding ------------------------------------------------
"$NFQ" delay --queue 1 2>/dev/null; status=$?
check "a missing option exits non-zero (status $status)" test $status -ne 0
"$NFQ" inject-dns --queue 1 --names a.example --forged-ip 300.1.1.1 2>/dev/null; status=$?
check "a bad address exits non-zero (status $status)" test $status -ne 0

# --- inject-dns -----------------------------------------------------------
echo "== inject-dns: forged A $FORGED_IP, IP TTL 50, real query held 300 ms"
in_ns "$R" iptables -A FORWARD -p udp --dport 53 -j NFQUEUE --queue-num 11 --queue-bypass
start_nfq "$WORK/inject.log" inject-dns --queue 11 --names test.example,second.example \
  --forged-ip $FORGED_IP --ttl 50 --delay-real 300

in_ns "$R" timeout 3 "$NFQ" inject-dns --queue 11 --names x.example --forged-ip $FORGED_IP 2>"$WORK/second.log"
status=$?
check "binding a queue that is taken exits non-zero (status $status: $(head -1 "$WORK/second.log"))" \
  test $status -ne 0 -a $status -ne 124

got=$(in_ns "$C" dig +short +time=3 +tries=1 @$SERVER_IP test.example A)
check "dig gets the forged answer first (got \"$got\")" test "$got" = "$FORGED_IP"

# Each line: arrival ms, IP TTL, source, rcode, A records.
in_ns "$C" $PROBE dns $SERVER_IP TeSt.ExAmPlE 1.5 >"$WORK/both.txt"
echo "   answers for TeSt.ExAmPlE:"; sed 's/^/     /' "$WORK/both.txt"
read -r t1 ttl1 src1 _ a1 <<<"$(sed -n 1p "$WORK/both.txt")"
read -r t2 ttl2 src2 _ a2 <<<"$(sed -n 2p "$WORK/both.txt")"
check "two answers arrive (forged and real)" test "$(wc -l <"$WORK/both.txt")" -eq 2
check "the first is the forgery from the resolver's address with IP TTL 50" \
  test "${a1:-}" = "$FORGED_IP" -a "${ttl1:-}" = 50 -a "${src1:-}" = $SERVER_IP
check "the second is the real answer (IP TTL 63 = one hop)" \
  test "${a2:-}" = "$SERVER_IP" -a "${ttl2:-}" = 63 -a "${src2:-}" = $SERVER_IP
gap=$(python3 -c "print(int(float('${t2:-0}') - float('${t1:-0}')))")
check "the real answer comes about 300 ms later (gap $gap ms)" test "$gap" -ge 280 -a "$gap" -le 600

in_ns "$C" $PROBE dns $SERVER_IP www.test.example 1.0 >"$WORK/sub.txt"
check "a subdomain is injected too ($(head -1 "$WORK/sub.txt"))" \
  test "$(head -1 "$WORK/sub.txt" | awk '{print $5}')" = "$FORGED_IP"
in_ns "$C" $PROBE dns $SERVER_IP other.example 1.0 >"$WORK/other.txt"
check "another name gets only the real answer ($(tr '\n' ';' <"$WORK/other.txt"))" \
  test "$(wc -l <"$WORK/other.txt")" -eq 1 -a "$(awk '{print $5}' "$WORK/other.txt")" = 198.18.201.11
in_ns "$C" $PROBE dns $SERVER_IP nottest.example 1.0 >"$WORK/suffix.txt"
check "a name that merely ends with a target is not injected" \
  bash -c "! grep -q '$FORGED_IP' '$WORK/suffix.txt'"
in_ns "$C" $PROBE dns $NO_SERVER_IP test.example 1.0 >"$WORK/noserver.txt"
check "querying an address with no DNS server still gets the forgery ($(head -1 "$WORK/noserver.txt"))" \
  test "$(head -1 "$WORK/noserver.txt" | awk '{print $3, $5}')" = "$NO_SERVER_IP $FORGED_IP"
check "the injector logged its injections" grep -q "inject $CLIENT_IP:.* -> $SERVER_IP:53 .* TeSt.ExAmPlE" "$WORK/inject.log"
check "the injector logged the releases" grep -q "released real query" "$WORK/inject.log"
stop_nfq inject-dns
in_ns "$R" iptables -D FORWARD -p udp --dport 53 -j NFQUEUE --queue-num 11 --queue-bypass

# --- drop-sni -------------------------------------------------------------
echo "== drop-sni: blocked.example"
in_ns "$R" iptables -A FORWARD -p tcp --dport 443 -j NFQUEUE --queue-num 12 --queue-bypass
start_nfq "$WORK/sni.log" drop-sni --queue 12 --names blocked.example

tls() {  # tls SNI SECONDS: prints the elapsed ms and whether the handshake finished
  local begin end out status
  begin=$(now_ms)
  out=$(in_ns "$C" timeout "$2" openssl s_client -connect $SERVER_IP:443 -servername "$1" </dev/null 2>&1)
  status=$?
  end=$(now_ms)
  if grep -q "Cipher is " <<<"$out" && ! grep -q "Cipher is (NONE)" <<<"$out"; then
    echo "handshake status=$status ms=$((end - begin))"
  else
    echo "no-handshake status=$status ms=$((end - begin))"
  fi
}
for sni in allowed.example notblocked.example; do
  r=$(tls $sni 8)
  check "SNI $sni completes its handshake ($r)" grep -q "^handshake" <<<"$r"
done
for sni in blocked.example WWW.Blocked.Example; do
  r=$(tls $sni 4)
  check "SNI $sni times out ($r)" grep -q "^no-handshake status=124" <<<"$r"
done
check "drop-sni logged the drop with the SNI" grep -q "drop $CLIENT_IP:[0-9]* -> $SERVER_IP:443 sni=blocked.example" "$WORK/sni.log"
check "drop-sni kept dropping the blocked flow (retransmissions)" grep -q "flow blocked earlier" "$WORK/sni.log"
r=$(tls allowed.example 8)
check "a new flow with an allowed SNI still works after a block ($r)" grep -q "^handshake" <<<"$r"
stop_nfq drop-sni
in_ns "$R" iptables -D FORWARD -p tcp --dport 443 -j NFQUEUE --queue-num 12 --queue-bypass

# --- delay ----------------------------------------------------------------
echo "== delay: 50 ms each way on UDP port 9000"
field() { sed -n "s/.*\b$1=\([-0-9.]*\).*/\1/p" <<<"$2"; }
base=$(in_ns "$C" $PROBE udp $SERVER_IP 9000 200 100)
echo "   without delay: $base"
for rule in "--dport 9000" "--sport 9000"; do
  in_ns "$R" iptables -A FORWARD -p udp $rule -j NFQUEUE --queue-num 13 --queue-bypass
done
start_nfq "$WORK/delay.log" delay --queue 13 --ms 50
slow=$(in_ns "$C" $PROBE udp $SERVER_IP 9000 200 100)
echo "   with delay, 100 pkt/s: $slow"
added=$(python3 -c "print(round(float('$(field rtt_median "$slow")') - float('$(field rtt_median "$base")'), 2))")
check "median RTT grows by 100 ms (+$added ms)" \
  python3 -c "import sys; sys.exit(not 98 <= $added <= 110)"
check "no loss at 100 pkt/s" test "$(field lost "$slow")" = 0
fast=$(in_ns "$C" $PROBE udp $SERVER_IP 9000 10000 5000)
echo "   with delay, 5000 pkt/s each way: $fast"
check "no loss at 5000 pkt/s" test "$(field lost "$fast")" = 0
check "no reordering at 5000 pkt/s" test "$(field reordered "$fast")" = 0
check "median RTT at 5000 pkt/s stays near base + 100 ms ($(field rtt_median "$fast") ms)" \
  python3 -c "import sys; sys.exit(not 98 <= $(field rtt_median "$fast") - $(field rtt_median "$base") <= 130)"
echo "   delay log:"; grep "held" "$WORK/delay.log" | tail -4 | sed 's/^/     /'
stop_nfq delay

echo "== delay: overflow of a 100-packet queue fails open"
start_nfq "$WORK/overflow.log" delay --queue 13 --ms 500 --queue-maxlen 100
over=$(in_ns "$C" $PROBE udp $SERVER_IP 9000 1000 1000)
echo "   500 ms each way, 1000 pkt/s, at most 100 held: $over"
check "nothing is lost when the queue overflows" test "$(field lost "$over")" = 0
check "the excess passes undelayed (min RTT $(field rtt_min "$over") ms)" \
  python3 -c "import sys; sys.exit(not $(field rtt_min "$over") < 500)"
check "the rest is still delayed (max RTT $(field rtt_max "$over") ms)" \
  python3 -c "import sys; sys.exit(not $(field rtt_max "$over") >= 1000)"
stop_nfq delay

# --- result ---------------------------------------------------------------
if [ "$FAILURES" -ne 0 ]; then
  echo "selftest: $FAILURES check(s) FAILED"
  for f in inject sni delay overflow; do echo "--- $f.log"; tail -20 "$WORK/$f.log" 2>/dev/null; done
  exit 1
fi
echo "selftest: all checks passed"
