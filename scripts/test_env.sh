# shellcheck shell=bash
# Sourced by `make integration`: use the PostgreSQL and Kafka given in OT_TEST_DATABASE_URL and
# KAFKA_BOOTSTRAP_SERVERS when set, otherwise start (or reuse) the project's local ones, and
# export where they are. Any failure stops the test run: integration tests never skip a missing
# service.
set -euo pipefail
_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
if [ -z "${OT_TEST_DATABASE_URL:-}" ]; then
  OT_TEST_DATABASE_URL="$(bash "$_here/postgres.sh" start | sed -n 's/^DATABASE_URL=//p')"
fi
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  KAFKA_BOOTSTRAP_SERVERS="$(bash "$_here/kafka.sh" start | sed -n 's/^KAFKA_BOOTSTRAP_SERVERS=//p')"
fi
[ -n "$OT_TEST_DATABASE_URL" ] || { echo "test_env: PostgreSQL did not report its URL" >&2; exit 1; }
[ -n "$KAFKA_BOOTSTRAP_SERVERS" ] || { echo "test_env: Kafka did not report its address" >&2; exit 1; }
export OT_TEST_DATABASE_URL KAFKA_BOOTSTRAP_SERVERS
echo "integration tests use PostgreSQL at ${OT_TEST_DATABASE_URL##*@} and Kafka at $KAFKA_BOOTSTRAP_SERVERS" >&2
