#!/bin/sh
# db-replica's entrypoint: on its first start, a copy of the primary taken while it runs (pg_basebackup, the
# WAL streamed alongside; -R: follow it), then PostgreSQL as a hot standby. Promoted (README, "Mirror and
# failover"), the same data folder goes on as a primary. PGPASSWORD is the primary's password.
set -eu
: "${PRIMARY_HOST:=db}" "${PRIMARY_PORT:=5432}" "${PRIMARY_USER:=chm}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_basebackup --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username="$PRIMARY_USER" \
        --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast --progress; do
        echo "db-replica: the primary $PRIMARY_HOST:$PRIMARY_PORT does not answer yet; trying again in 5 s" >&2
        find "$PGDATA" -mindepth 1 -delete
        sleep 5
    done
    chmod 0700 "$PGDATA"
fi
exec postgres -c hba_file=/etc/postgresql/pg_hba.conf -c hot_standby=on
