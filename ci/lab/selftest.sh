#!/usr/bin/env bash
# selftest.sh: proves every censor technique of the lab works, with
# independent clients (dig, curl, openssl, ping, a socket connect) from the
# client namespace: each check must succeed without the technique, see the
# censorship with it, and succeed again once it is removed. A technique that
# silently fails to censor (or to be removed) fails this test.
#
#   selftest.sh [--tools-dir DIR] [--only TECHNIQUE ...]
#
# Needs root. Brings up one lab (unique prefix) and always tears it down.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
TOOLS_DIR=${LAB_TOOLS_DIR:-}
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tools-dir) TOOLS_DIR=$2; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    *) echo "usage: $0 [--tools-dir DIR] [--only TECHNIQUE ...]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "selftest.sh: must run as root" >&2; exit 2; }

PREFIX="st$$-"
RUNDIR="/tmp/vantage-lab/${PREFIX%-}"
CLI="ip netns exec ${PREFIX}client"
CTL="ip netns exec ${PREFIX}control"
CA="$RUNDIR/pki/lab-ca.pem"
cleanup() { "$LAB_DIR/lab.sh" down --prefix "$PREFIX" --rundir "$RUNDIR" >/dev/null 2>&1; rm -rf "$RUNDIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LAB_DIR/lab.sh" up --prefix "$PREFIX" --rundir "$RUNDIR" || { echo "FAIL: lab up"; exit 1; }

censor() { "$LAB_DIR/censor.py" --rundir "$RUNDIR" ${TOOLS_DIR:+--tools-dir "$TOOLS_DIR"} "$@"; }

# --- independent checks: each prints what it saw, returns 0 when it holds ---
dns_status() {  # dns_status NAME [SERVER] -> rcode or "timeout"
  local out
  out=$($CLI dig +time=2 +tries=1 "@${2:-198.18.3.53}" "$1" 2>&1)
  if grep -q "timed out" <<<"$out"; then echo timeout; return; fi
  sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out"
}
dns_answer() { $CLI dig +short +time=2 +tries=1 "@${2:-198.18.3.53}" "$1" 2>/dev/null | grep -E '^[0-9.]+$' | head -1; }
# Encrypted DNS to the client's resolver, DoT (tls, :853) or DoH (https, :443
# /dns-query), its certificate verified against CAFILE (default the lab CA).
edns() {  # edns tls|https NAME [CAFILE] [+short]
  local port=853; [ "$1" = https ] && port=443
  $CLI dig +time=2 +tries=1 "+$1" "+tls-ca=${3:-$CA}" +tls-hostname=dns.lab.vantage -p "$port" @198.18.3.53 "$2" ${4:-} 2>&1
}
edns_status() {  # edns_status tls|https NAME [CAFILE] -> rcode, "timeout" or "tls-failed"
  local out; out=$(edns "$@")
  if grep -q "verification.*failed" <<<"$out"; then echo tls-failed; return; fi
  if grep -q "timed out" <<<"$out"; then echo timeout; return; fi
  sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out"
}
edns_answer() { edns "$1" "$2" "$CA" +short | grep -E '^[0-9.]+$' | head -1; }
tcp_connect() {  # tcp_connect NS IP PORT -> connected | refused | timeout | unreachable | other
  ip netns exec "$1" $PY - "$2" "$3" <<'EOF'
import errno, socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); print("connected")
except ConnectionRefusedError: print("refused")
except (socket.timeout, TimeoutError): print("timeout")
except OSError as e: print("unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "other:%s" % e)
EOF
}
wa_hello() {  # wa_hello NS IP PORT -> answered | reset | closed | silent | other (WhatsApp's first flight)
  ip netns exec "$1" $PY - "$2" "$3" <<'EOF'
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(bytes.fromhex("57410603" "000024" "12220a20") + os.urandom(32))
try:
    print("answered" if s.recv(4096) else "closed")
except ConnectionResetError: print("reset")
except (socket.timeout, TimeoutError): print("silent")
except OSError as e: print("other:%s" % e)
EOF
}
mm_hello() {  # mm_hello NS IP PORT -> answered | reset | closed | silent | other (WeChat's MMTLS ClientHello)
  ip netns exec "$1" $PY - "$2" "$3" <<'EOF'
import os, socket, sys, time
key = lambda i: bytes.fromhex("00000047%08x0041" % i) + b"\x04" + os.urandom(64)
hello = (bytes.fromhex("16f10400dd" "000000d90104f101c02b") + os.urandom(32) + int(time.time()).to_bytes(4, "big")
         + bytes.fromhex("000000ab01" "000000a6001002") + key(1) + key(2) + bytes.fromhex("00000000020000000300000004"))
assert len(hello) == 226
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(hello)
try:
    print("answered" if s.recv(4096)[:3] == b"\x16\xf1\x04" else "closed")
except ConnectionResetError: print("reset")
except (socket.timeout, TimeoutError): print("silent")
except OSError as e: print("other:%s" % e)
EOF
}

# Signal's WebSocket upgrade inside TLS (the signal_websocket exchange), from
# Python's ssl: the handshake (SNI NAME, verified against the lab CA, ALPN
# http/1.1) must complete, then the upgrade is sent. (Through memory BIOs on a
# plain socket: Python's SSL socket reports a reset after the handshake as an
# EOF, the raw socket as the reset it is.)
ws_upgrade() {  # ws_upgrade NS NAME -> switched | http:<status line> | reset | closed | silent | handshake-failed:<why> | other
  ip netns exec "$1" $PY - "$2" "$(ip_of "$2")" "$CA" <<'EOF'
import base64, os, socket, ssl, sys
name, ip, ca = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
# TLS over memory BIOs on a plain socket: the socket's own errors (a reset)
# show as they are, not as OpenSSL's EOF.
sock = socket.create_connection((ip, 443), timeout=3)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=name)
def flush():
    data = out.read()
    if data:
        sock.sendall(data)
def pull():
    data = sock.recv(16384)
    if not data:
        raise EOFError
    inc.write(data)
try:
    while True:
        try:
            tls.do_handshake(); flush(); break
        except ssl.SSLWantReadError:
            flush(); pull()
except (OSError, ssl.SSLError, EOFError) as e:
    print("handshake-failed:%r" % e); sys.exit()
key = base64.b64encode(os.urandom(16)).decode()
tls.write(("GET /v1/websocket/ HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           "User-Agent: Signal-Android/7.72.2 Android/34\r\n\r\n" % (name, key)).encode())
try:
    flush()
    reply = b""
    while not reply:
        try:
            reply = tls.read(4096)
        except ssl.SSLWantReadError:
            pull()
    line = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    print("switched" if line.startswith("HTTP/1.1 101") else "http:" + line)
except ConnectionResetError: print("reset")
except (EOFError, ssl.SSLZeroReturnError, ssl.SSLEOFError): print("closed")
except (socket.timeout, TimeoutError): print("silent")
except OSError as e: print("other:%r" % e)
EOF
}
https_rc() { $CLI curl ${3:-} -s -o /dev/null -m "${2:-4}" --cacert "$CA" "https://$1/"; echo $?; }  # https_rc NAME [TIMEOUT] [-4|-6]
issuer() { $CLI openssl s_client -connect "$1:443" -servername "$1" </dev/null 2>/dev/null | sed -n 's/^issuer=.*CN *= *//p' | head -1; }
speed() { $CLI curl -s -o /dev/null -m 6 --cacert "$CA" -w '%{speed_download}' "$1" | cut -d. -f1; }
UPDATES_URL=https://updates.signal.org/desktop/apt/dists/xenial/main/binary-amd64/Packages
ip_of() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RUNDIR/hosts.json" "$1"; }
ip6_of() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RUNDIR/hosts6.json" "$1"; }
dns_answer6() { $CLI dig +short +time=2 +tries=1 "@198.18.3.53" "$1" AAAA 2>/dev/null | grep : | head -1; }
# The lab address a catalog address literal (a Telegram data centre) stands for.
addr_of() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RUNDIR/addresses.json" "$1"; }
# OONI's POST to a data centre, plain HTTP even on 443 -> status code ("000": no answer).
dc_post() { $CLI curl -s -o /dev/null -m 3 -X POST --data-binary 0123456789abcdef -w '%{http_code}' "http://$(addr_of "$1"):$2/"; }

# --- per technique: apply arguments, then c_<check> must hold while it is
# applied and k_<check> must hold before and after (names are "TECH|ARGS|check").
CU=${PREFIX}client; CT=${PREFIX}control
MMTLS=http://short.weixin.qq.com/mmtls/00000000
c_nx()  { [ "$(dns_status e1.whatsapp.net)" = NXDOMAIN ] && [ "$(dns_status e5.whatsapp.net)" = NOERROR ]; }
k_nx()  { [ "$(dns_status e1.whatsapp.net)" = NOERROR ]; }
c_ref() { [ "$(dns_status v.whatsapp.net)" = REFUSED ]; }
k_ref() { [ "$(dns_status v.whatsapp.net)" = NOERROR ]; }
c_sf()  { [ "$(dns_status chat.signal.org)" = SERVFAIL ]; }
k_sf()  { [ "$(dns_status chat.signal.org)" = NOERROR ]; }
c_null() { [ "$(dns_answer web.whatsapp.com)" = 0.0.0.0 ]; }
c_bog() { [ "$(dns_answer web.whatsapp.com)" = 10.10.34.34 ]; }
k_web() { [ "$(dns_answer web.whatsapp.com)" = "$(ip_of web.whatsapp.com)" ]; }
c_drop1() { [ "$(dns_status cdsi.signal.org)" = timeout ] && [ "$(dns_status chat.signal.org)" = NOERROR ]; }
k_drop1() { [ "$(dns_status cdsi.signal.org)" = NOERROR ]; }
c_drop2() { [ "$(dns_status storage.signal.org)" = timeout ] && [ "$(dns_status chat.signal.org)" = NOERROR ]; }
k_drop2() { [ "$(dns_status storage.signal.org)" = NOERROR ]; }
# An injector answers even a query sent to an address with no DNS server.
# DoT and DoH reach the same resolver, so its lies show through them...
c_encnx() { [ "$(dns_status e1.whatsapp.net)" = NXDOMAIN ] && [ "$(edns_status tls e1.whatsapp.net)" = NXDOMAIN ] \
            && [ "$(edns_status https e1.whatsapp.net)" = NXDOMAIN ] && [ "$(edns_status tls e5.whatsapp.net)" = NOERROR ] \
            && echo "NXDOMAIN over plain DNS, DoT and DoH"; }
k_encnx() { [ "$(edns_answer tls e1.whatsapp.net)" = "$(ip_of e1.whatsapp.net)" ] \
            && [ "$(edns_answer https e1.whatsapp.net)" = "$(ip_of e1.whatsapp.net)" ] \
            && [ "$(edns_status tls e1.whatsapp.net "$RUNDIR/pki/censor-ca.pem")" = tls-failed ] \
            && [ "$(edns_status https e1.whatsapp.net "$RUNDIR/pki/censor-ca.pem")" = tls-failed ]; }
# ...but an on-path match on the name in plain port-53 queries cannot see them.
c_encdrop() { [ "$(dns_status cdsi.signal.org)" = timeout ] && [ "$(edns_answer tls cdsi.signal.org)" = "$(ip_of cdsi.signal.org)" ] \
              && [ "$(edns_answer https cdsi.signal.org)" = "$(ip_of cdsi.signal.org)" ] \
              && echo "plain DNS dropped, DoT and DoH answer"; }
k_encdrop() { [ "$(dns_status cdsi.signal.org)" = NOERROR ] && [ "$(edns_answer tls cdsi.signal.org)" = "$(ip_of cdsi.signal.org)" ] \
              && [ "$(edns_answer https cdsi.signal.org)" = "$(ip_of cdsi.signal.org)" ]; }
c_inj() { [ "$(dns_answer chat.signal.org)" = 198.18.4.4 ] && [ "$(dns_answer chat.signal.org 198.18.2.40)" = 198.18.4.4 ] \
          && [ "$(dns_answer cdsi.signal.org)" = "$(ip_of cdsi.signal.org)" ]; }
k_inj() { [ "$(dns_answer chat.signal.org)" = "$(ip_of chat.signal.org)" ] && [ -z "$(dns_answer chat.signal.org 198.18.2.40)" ]; }
# IP techniques apply to both families by default: the name's IPv6 twin too.
c_bh()  { [ "$(tcp_connect "$CU" "$(ip_of e13.whatsapp.net)" 5222)" = timeout ] && [ "$(tcp_connect "$CU" "$(ip_of e13.whatsapp.net)" 443)" = connected ] \
          && [ "$(tcp_connect "$CU" "$(ip6_of e13.whatsapp.net)" 5222)" = timeout ]; }
k_bh()  { [ "$(tcp_connect "$CU" "$(ip_of e13.whatsapp.net)" 5222)" = connected ] && [ "$(tcp_connect "$CU" "$(ip6_of e13.whatsapp.net)" 5222)" = connected ]; }
c_rst() { [ "$(tcp_connect "$CU" "$(ip_of e14.whatsapp.net)" 443)" = refused ] && [ "$(tcp_connect "$CT" "$(ip_of e14.whatsapp.net)" 443)" = connected ] \
          && [ "$(tcp_connect "$CU" "$(ip6_of e14.whatsapp.net)" 443)" = refused ] && [ "$(tcp_connect "$CT" "$(ip6_of e14.whatsapp.net)" 443)" = connected ]; }
k_rst() { [ "$(tcp_connect "$CU" "$(ip_of e14.whatsapp.net)" 443)" = connected ] && [ "$(tcp_connect "$CU" "$(ip6_of e14.whatsapp.net)" 443)" = connected ]; }
c_icmp() { [ "$(tcp_connect "$CU" "$(ip_of e15.whatsapp.net)" 443)" = unreachable ]; }
k_icmp() { [ "$(tcp_connect "$CU" "$(ip_of e15.whatsapp.net)" 443)" = connected ]; }
c_sni() { [ "$(https_rc chat.signal.org 4 -4)" = 35 ] && [ "$(https_rc chat.signal.org 4 -6)" = 35 ] && [ "$(https_rc cdsi.signal.org)" = 0 ]; }
k_sni() { [ "$(https_rc chat.signal.org 4 -4)" = 0 ] && [ "$(https_rc chat.signal.org 4 -6)" = 0 ]; }
# family=4 (scenario ipv4_only_block): reset over IPv4, IPv6 untouched.
c_sni4() { [ "$(https_rc chat.signal.org 4 -4)" = 35 ] && [ "$(https_rc chat.signal.org 4 -6)" = 0 ] \
           && echo "IPv4 reset (curl -4 exit 35), IPv6 answers (curl -6 exit 0)"; }
c_sdrop() { [ "$(https_rc storage.signal.org 3)" = 28 ] && [ "$(https_rc cdsi.signal.org)" = 0 ]; }
k_sdrop() { [ "$(https_rc storage.signal.org)" = 0 ]; }
# Residual: after the trigger, even a bare connect to the same ip:port is reset.
# Each family's flow triggers its own penalty (curl -6 never falls back to IPv4 after a reset in TLS).
c_resid() { [ "$(https_rc chat.signal.org 4 -4)" = 35 ] && [ "$(tcp_connect "$CU" "$(ip_of chat.signal.org)" 443)" = refused ] \
            && [ "$(https_rc chat.signal.org 4 -6)" = 35 ] && [ "$(tcp_connect "$CU" "$(ip6_of chat.signal.org)" 443)" = refused ] \
            && [ "$(https_rc cdsi.signal.org)" = 0 ]; }
c_mitm() { [ "$(issuer web.whatsapp.com)" = "Lab Censor Interception CA" ] && [ "$(https_rc web.whatsapp.com)" = 60 ]; }
k_mitm() { [ "$(issuer web.whatsapp.com)" = "Vantage Lab Root CA" ] && [ "$(https_rc web.whatsapp.com)" = 0 ]; }
c_page() { $CLI curl -s -m 3 -X POST -d x "$MMTLS" -w '%{http_code}' | tr -d '\n' | grep -q 'LAB-BLOCKPAGE.*403$' \
           && [ "$($CTL curl -s -m 3 -X POST -d x "$MMTLS")" = ok ]; }
k_page() { [ "$($CLI curl -s -m 3 -X POST -d x "$MMTLS" -w '%{http_code}' | tr -d '\n')" = ok200 ]; }
c_thr() { local s; s=$(speed "$UPDATES_URL"); echo "speed $s B/s"; [ "$s" -lt 30000 ] && [ "$s" -gt 5000 ]; }
k_thr() { local s; s=$(speed "$UPDATES_URL"); echo "speed $s B/s"; [ "$s" -gt 1000000 ]; }
rtt_ms() { $CLI ping -c 3 -i 0.2 198.18.2.40 | sed -n 's|.*= [0-9.]*/\([0-9]*\).*|\1|p'; }
c_delay() { local r; r=$(rtt_ms); echo "rtt ${r}ms"; [ "${r:-0}" -ge 190 ]; }
k_delay() { local r; r=$(rtt_ms); echo "rtt ${r}ms"; [ "${r:-999}" -lt 50 ]; }
loss_pct() { $CLI ping -c 100 -i 0.01 -W 1 198.18.2.40 | sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p'; }
c_loss() { local l; l=$(loss_pct); echo "loss ${l}%"; [ "${l:-0}" -ge 50 ] && [ "$l" -le 95 ]; }
k_loss() { local l; l=$(loss_pct); echo "loss ${l}%"; [ "${l:-100}" -eq 0 ]; }
c_out() { [ "$(tcp_connect "$CT" "$(ip_of web.wechat.com)" 443)" = refused ] && [ "$(tcp_connect "$CU" "$(ip_of web.wechat.com)" 443)" = refused ]; }
k_out() { [ "$(tcp_connect "$CT" "$(ip_of web.wechat.com)" 443)" = connected ]; }
c_wa() { [ "$(tcp_connect "$CU" "$(ip_of e16.whatsapp.net)" 443)" = connected ] \
        && [ "$(wa_hello "$CU" "$(ip_of e16.whatsapp.net)" 443)" = reset ] && [ "$(wa_hello "$CU" "$(ip_of e16.whatsapp.net)" 5222)" = reset ] \
        && [ "$(wa_hello "$CT" "$(ip_of e16.whatsapp.net)" 443)" = answered ]; }
k_wa() { [ "$(wa_hello "$CU" "$(ip_of e16.whatsapp.net)" 443)" = answered ] && [ "$(wa_hello "$CU" "$(ip_of e16.whatsapp.net)" 5222)" = answered ]; }
# MMTLS's record dropped: a bare connect works, the ClientHello gets no reply
# on any long-link port, while the control's gets the ServerHello record.
c_mm() { local ip; ip=$(ip_of uslong.wechat.com)
         [ "$(tcp_connect "$CU" "$ip" 443)" = connected ] && [ "$(mm_hello "$CU" "$ip" 80)" = silent ] \
         && [ "$(mm_hello "$CU" "$ip" 443)" = silent ] && [ "$(mm_hello "$CU" "$ip" 8080)" = silent ] \
         && [ "$(mm_hello "$CT" "$ip" 443)" = answered ]; }
k_mm() { local ip; ip=$(ip_of uslong.wechat.com)
         [ "$(mm_hello "$CU" "$ip" 80)" = answered ] && [ "$(mm_hello "$CU" "$ip" 443)" = answered ] \
         && [ "$(mm_hello "$CU" "$ip" 8080)" = answered ]; }
# WeChat's HTTP-DNS service answers its XML server list on port 80.
HDNS=http://dns.weixin.qq.com/cgi-bin/micromsg-bin/newgetdns
k_hdns() { $CLI curl -s -m 3 "$HDNS" | grep -q '<domainlist><domain name="long.weixin.qq.com"'; }
c_hdns() { $CLI curl -s -m 3 -w '%{http_code}' "$HDNS" | tr -d '\n' | grep -q 'LAB-BLOCKPAGE.*403$' \
           && $CTL curl -s -m 3 "$HDNS" | grep -q '<domainlist>'; }
c_ws() { [ "$(ws_upgrade "$CU" chat.signal.org)" = reset ] && [ "$(ws_upgrade "$CT" chat.signal.org)" = switched ] \
        && [ "$(ws_upgrade "$CU" cdsi.signal.org)" = switched ]; }
k_ws() { [ "$(ws_upgrade "$CU" chat.signal.org)" = switched ]; }
c_tgdc() { [ "$(dc_post 149.154.175.50 80)" = 000 ] && [ "$(dc_post 149.154.175.50 443)" = 000 ] \
           && [ "$(dc_post 149.154.167.51 443)" = 404 ] && [ "$(https_rc web.telegram.org)" = 0 ]; }
k_tgdc() { [ "$(dc_post 149.154.175.50 80)" = 404 ] && [ "$(dc_post 149.154.175.50 443)" = 404 ]; }
c_tgweb() { [ "$(https_rc web.telegram.org)" = 35 ] && [ "$(dc_post 149.154.167.51 443)" = 404 ]; }
k_tgweb() { [ "$(https_rc web.telegram.org)" = 0 ]; }
c_off() { [ "$(dns_status chat.signal.org)" != NOERROR ] && [ "$(tcp_connect "$CU" "$(ip_of chat.signal.org)" 443)" = unreachable ]; }
k_off() { [ "$(dns_status chat.signal.org)" = NOERROR ] && [ "$(https_rc chat.signal.org)" = 0 ]; }

CASES=(
"dns_nxdomain|--names e1.whatsapp.net|nx"
"dns_refused|--names v.whatsapp.net|ref"
"dns_servfail|--names chat.signal.org|sf"
"dns_null|--names web.whatsapp.com|null:web"
"dns_bogon|--names web.whatsapp.com|bog:web"
"dns_drop|--names cdsi.signal.org|drop1"
"dns_drop|--names storage.signal.org --param where=resolver|drop2"
"dns_nxdomain|--names e1.whatsapp.net|encnx"
"dns_drop|--names cdsi.signal.org|encdrop"
"dns_inject|--names chat.signal.org --param forged_ip=198.18.4.4|inj"
"ip_blackhole|--names e13.whatsapp.net --ports 5222|bh"
"tcp_rst_syn|--names e14.whatsapp.net|rst"
"icmp_prohibited|--names e15.whatsapp.net|icmp"
"sni_rst|--names chat.signal.org|sni"
"sni_rst|--names chat.signal.org --param family=4|sni4:sni"
"stateful_sni_rst|--names chat.signal.org|sni"
"sni_drop|--names storage.signal.org --param require_tool=true|sdrop"
"residual|--names chat.signal.org --param timeout_s=60|resid:sni"
"tls_mitm|--names web.whatsapp.com|mitm"
"http_blockpage|--names short.weixin.qq.com|page"
"throttle|--names updates.signal.org --param kbit=140|thr"
"delay|--param ms=100|delay"
"loss|--param probability=0.5|loss"
"ip_blackhole|--names 149.154.175.50 --ports 80,443|tgdc"
"sni_rst|--names web.telegram.org|tgweb"
"app_prologue_rst|--names e16.whatsapp.net|wa"
"app_record_drop|--names uslong.wechat.com|mm"
"http_blockpage|--names dns.weixin.qq.com|hdns"
"tls_appdata_rst|--names chat.signal.org|ws"
"outage|--names web.wechat.com|out"
"client_offline||off"
)

pass=0; fail=0; failed=()

# Every name has an IPv6 twin (2001:2:0:N::H of 198.18.N.H), answered as
# AAAA and served, and no namespace has a default route in either family.
v6_ok=yes
for ns in client censor servers resolvers control; do
  if ip -n "${PREFIX}$ns" -4 route show default | grep -q . || ip -n "${PREFIX}$ns" -6 route show default | grep -q .; then v6_ok="default route in $ns"; fi
done
if [ "$v6_ok" = yes ] && [ "$(dns_answer6 chat.signal.org)" = "$(ip6_of chat.signal.org)" ] \
   && [ "$(ip6_of chat.signal.org)" = 2001:2:0:2::40 ] && [ "$(https_rc chat.signal.org 4 -6)" = 0 ]; then
  pass=$((pass + 1)); echo "PASS  IPv6 twins: chat.signal.org AAAA $(ip6_of chat.signal.org) served over IPv6; no default route"
else
  fail=$((fail + 1)); failed+=(ipv6); echo "FAIL  IPv6 addressing ($v6_ok; AAAA '$(dns_answer6 chat.signal.org)')"
fi

# A catalog address literal is only ever stood for by a lab address: none of
# the real ones may be on a lab interface.
real_on_lab=$($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$RUNDIR/addresses.json" |
  tr ' ' '\n' | while read -r a; do [ -n "$a" ] && ip -n "${PREFIX}servers" -4 addr | grep -qw "$a" && echo "$a"; done)
if [ -z "$real_on_lab" ] && [ "$(dc_post 149.154.175.50 443)" = 404 ]; then
  pass=$((pass + 1)); echo "PASS  catalog address literals only as lab addresses (data centre answers OONI's POST on 443)"
else
  fail=$((fail + 1)); failed+=(addresses); echo "FAIL  real addresses on a lab interface (${real_on_lab:-none}) or no data-centre listener"
fi
for c in "${CASES[@]}"; do
  IFS='|' read -r tech args check <<<"$c"
  censored=c_${check%%:*}; clean=k_${check##*:}
  if [ ${#ONLY[@]} -gt 0 ] && ! printf '%s\n' "${ONLY[@]}" | grep -qx "$tech"; then continue; fi
  label="$tech ${args}"
  result=ok
  if ! before=$($clean 2>&1); then result="baseline check failed before applying ($before)"; fi
  if [ "$result" = ok ]; then
    # shellcheck disable=SC2086
    if ! err=$(censor apply "$tech" $args 2>&1); then
      result="apply failed: $err"
    elif ! during=$($censored 2>&1); then
      result="technique did not censor ($during)"
    fi
    censor clear >/dev/null 2>&1 || result="clear failed"
    if [ "$result" = ok ] && ! after=$($clean 2>&1); then
      result="still censored after removal ($after)"
    fi
  fi
  if [ "$result" = ok ]; then
    pass=$((pass + 1)); echo "PASS  $label ${during:+($during)}"
  else
    fail=$((fail + 1)); failed+=("$tech"); echo "FAIL  $label: $result"
  fi
  during=""
done

# Control must never be censored by any client-side rule: one last check with
# several techniques at once.
censor apply sni_rst --names chat.signal.org >/dev/null && censor apply dns_nxdomain --names chat.signal.org >/dev/null
if [ "$($CTL curl -s -m 3 --cacert "$CA" https://chat.signal.org/)" = ok ]; then
  pass=$((pass + 1)); echo "PASS  control vantage point uncensored while the client is censored"
else
  fail=$((fail + 1)); failed+=(control); echo "FAIL  control vantage point is censored"
fi
censor clear >/dev/null

echo "selftest: $pass passed, $fail failed${failed:+: ${failed[*]}}"
[ "$fail" -eq 0 ]
