#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and RabbitMQ answer on loopback, for the test suite.
# Starts them when stopped; on Debian installs them with apt-get when absent; elsewhere prints
# exactly what to install. Creates the login role the tests use (tablium/tablium) if missing.
set -euo pipefail

PG_PORT="${TABLIUM_TEST_PG_PORT:-5432}"
REDIS_PORT="${TABLIUM_TEST_REDIS_PORT:-6379}"
AMQP_PORT="${TABLIUM_TEST_AMQP_PORT:-5672}"
# A streaming replica of that PostgreSQL, for the read-replica tests: its own cluster in a
# directory this script owns (never the primary's), made by pg_basebackup on first use.
PG_REPLICA_PORT="${TABLIUM_TEST_PG_REPLICA_PORT:-5433}"
PG_REPLICA_DIR="${TABLIUM_TEST_PG_REPLICA_DIR:-/var/lib/postgresql/tablium-test-replica}"
REPLICA_MARK="tablium-test-replica"  # a file in PG_REPLICA_DIR: the script made this directory

say() { echo "ensure-services: $*"; }

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "cannot install $1 here: install $2 and run 'make test' again" >&2
        exit 1
    fi
    if [ "$(id -u)" != 0 ]; then
        say "need root to 'apt-get install $1'; run: sudo apt-get install -y $1" >&2
        exit 1
    fi
    say "installing $1 with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v pg_isready >/dev/null 2>&1; then
        apt_install postgresql "PostgreSQL 13 or newer (server and client)"
    fi
    if ! pg_ready; then
        if command -v pg_ctlcluster >/dev/null 2>&1; then
            local version
            version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
            if [ -z "$version" ]; then
                apt_install postgresql "PostgreSQL 13 or newer"
                version=$(ls /etc/postgresql | sort -V | tail -n 1)
            fi
            say "starting PostgreSQL $version"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        fi
        for _ in $(seq 1 50); do pg_ready && break; sleep 0.2; done
        pg_ready || { say "PostgreSQL does not answer on 127.0.0.1:$PG_PORT" >&2; exit 1; }
    fi
    # The tests log in as tablium/tablium over TCP, which works under trust, md5 or scram.
    if ! PGPASSWORD=tablium psql -w -h 127.0.0.1 -p "$PG_PORT" -U tablium -d postgres -tAc "select 1" \
        >/dev/null 2>&1; then
        as_postgres psql -q -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -c \
            "DO \$\$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tablium') THEN
                 CREATE ROLE tablium LOGIN CREATEDB PASSWORD 'tablium';
               END IF;
             END \$\$;" >/dev/null
        say "created PostgreSQL role tablium"
    fi
}

replica_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_REPLICA_PORT" 2>/dev/null; }

primary_sql() { as_postgres psql -q -X -w -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "$1"; }
replica_sql() {
    as_postgres psql -q -X -w -h 127.0.0.1 -p "$PG_REPLICA_PORT" -U postgres -d postgres -tAc "$1"
}

# pg_ctl and pg_basebackup of the primary's major version (Debian keeps pg_ctl off PATH).
pg_bin() {
    local major dir
    major=$(($(primary_sql "SHOW server_version_num") / 10000))
    for dir in "/usr/lib/postgresql/$major/bin" "/usr/pgsql-$major/bin"; do
        [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
    done
    dirname "$(command -v pg_ctl || command -v pg_basebackup)"
}

# The primary must let 127.0.0.1 open a replication connection (pg_hba's "all" does not
# cover it) with the method its loopback line already uses; added once, then reloaded.
allow_loopback_replication() {
    local has method hba
    has=$(primary_sql "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host'
        AND 'replication' = ANY(database) AND address = '127.0.0.1'")
    [ "$has" != 0 ] && return
    method=$(primary_sql "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'
        AND address = '127.0.0.1' ORDER BY line_number LIMIT 1")
    hba=$(primary_sql "SHOW hba_file")
    say "allowing replication from 127.0.0.1 in $hba (${method:-trust})"
    printf '\n# streaming replica for the Tablium tests (scripts/ensure-services.sh)\n%s\n' \
        "host replication all 127.0.0.1/32 ${method:-trust}" >> "$hba"
    primary_sql "SELECT pg_reload_conf()" >/dev/null
}

make_replica() {
    local bin="$1" setting
    if [ -e "$PG_REPLICA_DIR" ] && [ ! -e "$PG_REPLICA_DIR/$REPLICA_MARK" ] \
        && [ -n "$(ls -A "$PG_REPLICA_DIR" 2>/dev/null)" ]; then
        say "$PG_REPLICA_DIR holds something this script did not make: move it away" >&2
        exit 1
    fi
    [ "$(primary_sql "SHOW wal_level")" != minimal ] \
        || { say "the primary has wal_level=minimal: set replica and restart it" >&2; exit 1; }
    allow_loopback_replication
    say "making a streaming replica of 127.0.0.1:$PG_PORT in $PG_REPLICA_DIR"
    rm -rf "$PG_REPLICA_DIR"  # only ever our own (marked or empty), checked above
    mkdir -p "$PG_REPLICA_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_REPLICA_DIR"
    chmod 700 "$PG_REPLICA_DIR"
    as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -w \
        -D "$PG_REPLICA_DIR" -R -X stream -c fast
    # Our own settings (a copied postgresql.conf would name the primary's port). A hot
    # standby needs these five at least as large as on its primary.
    {
        echo "port = $PG_REPLICA_PORT"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$PG_REPLICA_DIR'"
        echo "hot_standby = on"
        echo "hot_standby_feedback = on"
        echo "autovacuum = off"
        for setting in max_connections max_worker_processes max_wal_senders \
            max_prepared_transactions max_locks_per_transaction; do
            echo "$setting = $(primary_sql "SHOW $setting")"
        done
    } > "$PG_REPLICA_DIR/postgresql.conf"
    cp "$(primary_sql "SHOW hba_file")" "$PG_REPLICA_DIR/pg_hba.conf"
    : > "$PG_REPLICA_DIR/pg_ident.conf"
    touch "$PG_REPLICA_DIR/$REPLICA_MARK"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_REPLICA_DIR"
    return 0
}

replica_streaming() {
    [ "$(replica_sql "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]
}

ensure_replica() {
    local bin
    bin=$(pg_bin)
    if ! replica_ready; then
        [ -e "$PG_REPLICA_DIR/standby.signal" ] || make_replica "$bin"
        say "starting the PostgreSQL replica on 127.0.0.1:$PG_REPLICA_PORT"
        as_postgres "$bin/pg_ctl" -D "$PG_REPLICA_DIR" -l "$PG_REPLICA_DIR/replica.log" -w -t 60 \
            start >/dev/null || { tail -n 20 "$PG_REPLICA_DIR/replica.log" >&2; exit 1; }
        for _ in $(seq 1 50); do replica_streaming && break; sleep 0.2; done
        if ! replica_streaming && [ -e "$PG_REPLICA_DIR/$REPLICA_MARK" ] \
            && grep -qs "has already been removed" "$PG_REPLICA_DIR/replica.log"; then
            # Stopped too long: the primary recycled the WAL it needs. Only a copy: make anew.
            say "the replica fell too far behind: making it again"
            as_postgres "$bin/pg_ctl" -D "$PG_REPLICA_DIR" -m fast -w stop >/dev/null || true
            make_replica "$bin"
            as_postgres "$bin/pg_ctl" -D "$PG_REPLICA_DIR" -l "$PG_REPLICA_DIR/replica.log" \
                -w -t 60 start >/dev/null
            for _ in $(seq 1 50); do replica_streaming && break; sleep 0.2; done
        fi
    fi
    [ "$(replica_sql "SELECT pg_is_in_recovery()")" = t ] \
        || { say "127.0.0.1:$PG_REPLICA_PORT answers but is no replica" >&2; exit 1; }
    replica_streaming || { say "the replica on 127.0.0.1:$PG_REPLICA_PORT is not streaming;" \
        "see $PG_REPLICA_DIR/replica.log" >&2; exit 1; }
    # The lag tests pause the replica's replay as the test role, connected to its database
    # "postgres" (function grants are per database; granted on the primary, which the replica
    # copies).
    primary_sql "GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume(),
        pg_is_wal_replay_paused() TO tablium" >/dev/null
}

redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

ensure_redis() {
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server "Redis 6 or newer"
    if ! redis_ready; then
        say "starting Redis on 127.0.0.1:$REDIS_PORT"
        mkdir -p /tmp/tablium-redis
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
            --appendonly no --dir /tmp/tablium-redis --logfile /tmp/tablium-redis/redis.log
        for _ in $(seq 1 50); do redis_ready && break; sleep 0.1; done
        redis_ready || { say "Redis does not answer on 127.0.0.1:$REDIS_PORT" >&2; exit 1; }
    fi
}

amqp_ready() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }

# The tests log in as guest/guest, which RabbitMQ allows from loopback only (its default).
ensure_rabbitmq() {
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
        apt_install rabbitmq-server "RabbitMQ 3.8 or newer"
        # A fresh install listens on every interface: the tests need loopback only.
        if ! grep -qs '^listeners.tcp' /etc/rabbitmq/rabbitmq.conf; then
            echo "listeners.tcp.local = 127.0.0.1:$AMQP_PORT" >> /etc/rabbitmq/rabbitmq.conf
        fi
    fi
    if ! amqp_ready; then
        say "starting RabbitMQ on 127.0.0.1:$AMQP_PORT"
        if [ -x /etc/init.d/rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
            /etc/init.d/rabbitmq-server start >/dev/null 2>&1 || true
        fi
        amqp_ready || rabbitmq-server -detached >/dev/null 2>&1 || true
        # Erlang takes a few seconds to boot on two cores.
        for _ in $(seq 1 300); do amqp_ready && break; sleep 0.2; done
        amqp_ready || { say "RabbitMQ does not answer on 127.0.0.1:$AMQP_PORT" >&2; exit 1; }
    fi
}

ensure_postgres
ensure_replica
ensure_redis
ensure_rabbitmq
say "PostgreSQL on 127.0.0.1:$PG_PORT (replica on $PG_REPLICA_PORT), Redis on 127.0.0.1:$REDIS_PORT and RabbitMQ on 127.0.0.1:$AMQP_PORT are up"
