#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and RabbitMQ answer on loopback, for the test suite.
# Starts them when stopped; on Debian installs them with apt-get when absent; elsewhere prints
# exactly what to install. Creates the login role the tests use (tablium/tablium) if missing.
set -euo pipefail

PG_PORT="${TABLIUM_TEST_PG_PORT:-5432}"
REDIS_PORT="${TABLIUM_TEST_REDIS_PORT:-6379}"
AMQP_PORT="${TABLIUM_TEST_AMQP_PORT:-5672}"

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
ensure_redis
ensure_rabbitmq
say "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT and RabbitMQ on 127.0.0.1:$AMQP_PORT are up"
