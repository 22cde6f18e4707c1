#!/bin/sh
# Stops what up.sh DIR started.
DIR=$1
[ -f "$DIR/stack.pid" ] && kill "$(cat "$DIR/stack.pid")" 2>/dev/null
[ -f "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$DIR/pg" -m fast stop 2>/dev/null
exit 0
