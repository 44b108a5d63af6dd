#!/usr/bin/env bash
# Starts Debian's clickhouse-server for the collector's store tests, listening
# on 127.0.0.1 only, with its data under $VANTAGE_CLICKHOUSE_DIR (default
# /var/tmp/vantage-clickhouse). Idempotent: does nothing when a server already
# answers on the port. Prints the store URL to use on success.
#   VANTAGE_CLICKHOUSE_HTTP_PORT (default 8123), VANTAGE_CLICKHOUSE_TCP_PORT (9000)
# Stop it with: kill "$(cat "$VANTAGE_CLICKHOUSE_DIR/clickhouse.pid")"
set -euo pipefail

dir=${VANTAGE_CLICKHOUSE_DIR:-/var/tmp/vantage-clickhouse}
http_port=${VANTAGE_CLICKHOUSE_HTTP_PORT:-8123}
tcp_port=${VANTAGE_CLICKHOUSE_TCP_PORT:-9000}
url="clickhouse://127.0.0.1:${http_port}"

if curl -sf --max-time 2 "http://127.0.0.1:${http_port}/ping" >/dev/null 2>&1; then
  echo "$url"
  exit 0
fi
if ! command -v clickhouse-server >/dev/null 2>&1; then
  echo "start-clickhouse: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2
  exit 1
fi

mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
# The packaged config listens on ::1 and 127.0.0.1; the overrides below move
# every path and port so the packaged service (if any) is left alone.
conf=$dir/config.xml
sed -e 's#<listen_host>::1</listen_host>##' /etc/clickhouse-server/config.xml > "$conf"
cp /etc/clickhouse-server/users.xml "$dir/users.xml"
if [ "$(id -u)" -eq 0 ] && id clickhouse >/dev/null 2>&1; then
  chown -R clickhouse:clickhouse "$dir"
  run_as=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups)
else
  run_as=()
fi
setsid "${run_as[@]}" clickhouse-server --config-file="$conf" -- \
  --path="$dir/data/" --tmp_path="$dir/tmp/" --user_files_path="$dir/user_files/" \
  --format_schema_path="$dir/format_schemas/" \
  --logger.log="$dir/clickhouse.log" --logger.errorlog="$dir/clickhouse.err.log" \
  --http_port="$http_port" --tcp_port="$tcp_port" --interserver_http_port=0 \
  --listen_host=127.0.0.1 \
  </dev/null >"$dir/stdout.log" 2>&1 &
echo $! >"$dir/clickhouse.pid"

for _ in $(seq 1 60); do
  if curl -sf --max-time 1 "http://127.0.0.1:${http_port}/ping" >/dev/null 2>&1; then
    echo "$url"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/clickhouse.pid")" 2>/dev/null; then break; fi
  sleep 0.5
done
echo "start-clickhouse: the server did not answer on 127.0.0.1:${http_port}; see $dir/clickhouse.err.log:" >&2
tail -n 20 "$dir/clickhouse.err.log" >&2 || true
exit 1
