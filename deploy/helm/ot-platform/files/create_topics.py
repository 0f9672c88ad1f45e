"""Create (or bring up to date) the release's Kafka topics. Run by the topic-creation hook Job in a
service image (kafka-python and ot_runtime are there). Input, all from the environment:
  KAFKA_BOOTSTRAP_SERVERS  host:port,...
  KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD      how to connect, as the services do (ot_runtime.kafka.client_config)
  OT_TOPICS                JSON list of {"name", "retentionMs", "compacted"}
  OT_TOPIC_PARTITIONS, OT_TOPIC_REPLICAS, OT_TOPIC_MIN_ISR
Idempotent: existing topics are kept (partitions are never reduced) and get the configs again,
so a changed retention in an area's values reaches the broker on the next upgrade.
"""
import json
import os
import sys
from types import SimpleNamespace

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError


def configs(topic, min_isr):
    out = {"min.insync.replicas": str(min_isr)}
    if topic["compacted"]:
        out["cleanup.policy"] = "compact"
    else:
        out["cleanup.policy"] = "delete"
        out["retention.ms"] = str(topic["retentionMs"])
    return out


def connection():
    """The services' own Kafka client settings, read from the same variables."""
    from ot_runtime.kafka import client_config
    env = os.environ
    return client_config(SimpleNamespace(
        kafka_security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper() or "PLAINTEXT",
        kafka_ssl_ca_file=env.get("KAFKA_SSL_CA_FILE") or None,
        kafka_sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or None,
        kafka_sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
        kafka_sasl_password=env.get("KAFKA_SASL_PASSWORD") or None))


def main():
    topics = json.loads(os.environ["OT_TOPICS"])
    partitions = int(os.environ.get("OT_TOPIC_PARTITIONS", "3"))
    replicas = int(os.environ.get("OT_TOPIC_REPLICAS", "3"))
    min_isr = int(os.environ.get("OT_TOPIC_MIN_ISR", "2"))
    admin = KafkaAdminClient(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(","),
                             client_id="ot-topic-job", request_timeout_ms=30000, **connection())
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name=t["name"], num_partitions=partitions, replication_factor=replicas,
                        topic_configs=configs(t, min_isr)) for t in topics if t["name"] not in existing]
        for topic in new:
            try:
                admin.create_topics([topic])
                print(f"created {topic.name}", flush=True)
            except TopicAlreadyExistsError:
                print(f"exists {topic.name}", flush=True)
        old = [t for t in topics if t["name"] in existing]
        if old:
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t["name"], configs=configs(t, min_isr))
                                 for t in old])
            for t in old:
                print(f"updated {t['name']}", flush=True)
    finally:
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
