"""Kafka producer, admin and readiness helpers over kafka-python, and the one place that says how
a service's Kafka clients connect (`client_config`)."""
from __future__ import annotations

import logging
import threading

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger("ot.kafka")


def client_config(settings) -> dict:
    """The security settings of every Kafka client of a service (its producer, its consumer through
    EventConsumer's `kafka_config`, its topic admin, its readiness check), so all of them connect
    the same way: KAFKA_SECURITY_PROTOCOL PLAINTEXT (a laptop), SSL (TLS; the brokers' certificate is
    verified against KAFKA_SSL_CA_FILE, or the system's CAs, and must name the broker's host) or
    SASL_SSL (TLS and the service's own SCRAM user, KAFKA_SASL_*). Only options every kafka-python
    client accepts."""
    protocol = settings.kafka_security_protocol
    config: dict = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        config.update(ssl_cafile=settings.kafka_ssl_ca_file, ssl_check_hostname=True)
    if protocol == "SASL_SSL":
        config.update(sasl_mechanism=settings.kafka_sasl_mechanism, sasl_plain_username=settings.kafka_sasl_username,
                      sasl_plain_password=settings.kafka_sasl_password)
    return config


def make_producer(bootstrap_servers: str, client_id: str, config: dict | None = None) -> KafkaProducer:
    """`config`: client_config(settings) (TLS, SASL)."""
    # acks=all and one request in flight: an event is either in the log, in order, or we retry.
    # enable_idempotence=False: kafka-python 3's idempotent producer turns ANY non-retriable error
    # (one record too large for its topic) into a fatal state in which every later send fails too,
    # so one refused outbox row would jam the relay and the dead-letter sends. One request in
    # flight keeps the order anyway, and consumers' inboxes absorb the rare repeat.
    # linger_ms=0: the relay sends a wave and then waits for its acks, so a linger is only delay
    # (5 ms was 5 of the relay's 14 ms p50 per event in `make bench`); sends made while a request
    # is in flight still go out together in the next one.
    return KafkaProducer(bootstrap_servers=bootstrap_servers.split(","), client_id=client_id,
                         acks="all", retries=5, max_in_flight_requests_per_connection=1,
                         enable_idempotence=False, linger_ms=0, request_timeout_ms=15000, **(config or {}))


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int = 3,
                  compacted: tuple[str, ...] = (), config: dict | None = None) -> None:
    """Create the topics that do not exist yet (a no-op where they do). In a cluster the chart
    declares them first and a service's Kafka user may not create topics; then this only checks."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), client_id="ot-topic-admin",
                             request_timeout_ms=15000, **(config or {}))
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(name=t, num_partitions=partitions, replication_factor=1,
                           topic_configs={"cleanup.policy": "compact"} if t in compacted else {})
                  for t in topics if t not in existing]
        if wanted:
            try:
                admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # created meanwhile by another replica
            log.info("topics created", extra={"topics": [t.name for t in wanted]})
            # A new topic's partitions get their leaders a moment after the creation is confirmed;
            # the consumer waits for them itself before it joins its group
            # (EventConsumer._learn_topics), and the producer blocks on a topic it does not know yet.
    finally:
        admin.close()


class KafkaReachable:
    """Readiness: can this service reach the Kafka cluster now, as its producer does?

    kafka-python keeps no "connected" state to ask: `bootstrap_connected()` is true only while the
    first bootstrap runs, and a producer's cached metadata says nothing about now. So each check is
    one real round trip with the service's own client settings (address, TLS verification, SASL
    user): a metadata request for `topic`, the service's own topic, which must exist and be visible
    to its user. The admin client is made on first use and made again after any failure, so the
    check recovers when the broker returns.

    It does not gate readiness (`gates_readiness`): a service whose broker is away still takes
    calls (their events wait in the outbox), so /readyz reports Kafka as "degraded" and stays 200."""

    gates_readiness = False

    def __init__(self, bootstrap_servers: str, topic: str, config: dict | None = None, client_id: str = "ot-ready",
                 timeout_ms: int = 3000):
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.config = dict(config or {})
        self.client_id = client_id
        self.timeout_ms = timeout_ms
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            try:
                if self._admin is None:
                    self._admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap_servers.split(","), client_id=self.client_id,
                        request_timeout_ms=self.timeout_ms, bootstrap_timeout_ms=self.timeout_ms, **self.config)
                for topic in self._admin.describe_topics([self.topic]):
                    if topic.get("error_code"):
                        raise kafka_errors.for_code(topic["error_code"])()
            except Exception:
                self._close()
                raise

    def close(self) -> None:
        # Not waiting long for a check that hangs: its client is closed when that check fails.
        if self._lock.acquire(timeout=1):
            try:
                self._close()
            finally:
                self._lock.release()

    def _close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            try:
                admin.close()
            except Exception:  # noqa: BLE001 - closing a broken client; nothing to report
                pass
