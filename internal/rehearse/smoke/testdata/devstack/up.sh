#!/bin/sh
# Starts PostgreSQL, Redis and The Things Stack (all components) on one
# loopback address for developing the smoke scenario against the real thing:
#   testdata/devstack/up.sh DIR   (DIR is created; down.sh DIR stops it)
# Then: SMOKE_DEVSTACK=DIR go test -run TestDevStack ./internal/rehearse/smoke/
set -eu
DIR=$1
HOST=${SMOKE_HOST:-127.0.44.1}
TTS=${TTS:-/tmp/tts/ttn-lw-stack}
PGBIN=/usr/lib/postgresql/15/bin
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
chmod 755 "$DIR"

if [ ! -d "$DIR/pg" ]; then
	mkdir "$DIR/pg" && chown postgres "$DIR/pg"
	runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth=trust >"$DIR/initdb.log"
fi
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w \
	-o "-c listen_addresses=$HOST -c unix_socket_directories=$DIR/pg" start
runuser -u postgres -- "$PGBIN/createdb" -h "$HOST" -U postgres ttn 2>/dev/null || true

redis-server --bind "$HOST" --port 6379 --save "" --appendonly no --daemonize yes \
	--pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"

# A CA that signs the stand-ins' server certificate (127.0.44.2, .3) and
# the Network Server's Join Server client certificate.
if [ ! -f "$DIR/ca.pem" ]; then
	cd "$DIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=smoke-ca -keyout ca-key.pem -out ca.pem 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=standins \
		-keyout server-key.pem -out server.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.44.2,IP:127.0.44.3\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile server.ext -out server.pem 2>/dev/null
	mkdir -p interop
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=Smoke/CN=ns.smoke.test" \
		-keyout interop/client-key.pem -out client.csr 2>/dev/null
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-out interop/client.pem 2>/dev/null
	cp ca.pem interop/ca.pem
	cat >interop/config.yml <<'YML'
join-servers:
  - file: js.yml
    join-euis:
      - 1122330000000000/24
YML
	cat >interop/js.yml <<'YML'
fqdn: 127.0.44.3
port: 8444
protocol: BI1.0
paths:
  join: bi/join
headers:
  X-Smoke: js-header-value
basic-auth:
  username: smoke-ns
  password: smoke-basic-secret
tls:
  root-ca: ca.pem
  certificate: client.pem
  key: client-key.pem
YML
	cd - >/dev/null
fi

sed "s/@HOST@/$HOST/g; s#@FP@#/work/shared/tts/frequency-plans#g" "$HERE/config.yml" >"$DIR/config.yml"
cd "$DIR"
"$TTS" -c config.yml is-db migrate >"$DIR/migrate.log" 2>&1
"$TTS" -c config.yml is-db create-admin-user --id admin --email admin@example.com --password 'smoke-admin-Pw1!' >"$DIR/admin.log" 2>&1
"$TTS" -c config.yml is-db create-oauth-client --id console --name Console --owner admin \
	--secret 'smoke-console-secret' --redirect-uri https://tts.example.com/console/oauth/callback \
	--redirect-uri /console/oauth/callback --logout-redirect-uri https://tts.example.com/console \
	>"$DIR/client.log" 2>&1 || true
nohup "$TTS" -c config.yml start is gs ns as js console gcs dcs >"$DIR/stack.log" 2>&1 &
echo $! >"$DIR/stack.pid"
