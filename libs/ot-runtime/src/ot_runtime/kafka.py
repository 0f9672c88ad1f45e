"""Kafka producer and admin helpers over kafka-python."""
from __future__ import annotations

import logging

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger("ot.kafka")


def make_producer(bootstrap_servers: str, client_id: str) -> KafkaProducer:
    # acks=all and one request in flight: an event is either in the log, in order, or we retry.
    return KafkaProducer(bootstrap_servers=bootstrap_servers.split(","), client_id=client_id,
                         acks="all", retries=5, max_in_flight_requests_per_connection=1,
                         linger_ms=5, request_timeout_ms=15000)


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int = 3,
                  compacted: tuple[str, ...] = ()) -> None:
    """Create the topics that do not exist yet (a no-op where they do)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), client_id="ot-topic-admin",
                             request_timeout_ms=15000)
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
    finally:
        admin.close()
