import pytest

from ot_runtime.settings import SettingsError, load_settings

BASE = {"OT_TENANT": "keski-suomi", "DATABASE_URL": "sqlite:///x.db", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "AUTH_JWT_ISSUER": "i", "AUTH_JWT_AUDIENCE": "a", "AUTH_JWKS_URL": "https://idp.example/jwks"}


def test_complete_environment_gives_typed_settings():
    s = load_settings("intake", {**BASE, "GRPC_PORT": "6000"})
    assert s.grpc_port == 6000
    assert s.topic("intake") == "ot.keski-suomi.intake.v1"
    assert s.dead_letter_topic == "ot.keski-suomi.intake.dlt.v1"
    assert s.event_source == "/ot/keski-suomi/intake"


def test_every_missing_variable_is_named_at_once():
    with pytest.raises(SettingsError) as err:
        load_settings("intake", {"OT_TENANT": "lappi"})
    text = str(err.value)
    for name in ("OT_TENANT", "lappi", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTH_JWT_ISSUER",
                 "AUTH_JWT_AUDIENCE", "AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_URL"):
        assert name in text


def test_malformed_number_is_named():
    with pytest.raises(SettingsError, match="GRPC_PORT must be a whole number"):
        load_settings("intake", {**BASE, "GRPC_PORT": "fifty"})


def test_topic_prefix_can_be_overridden():
    assert load_settings("intake", {**BASE, "OT_TOPIC_PREFIX": "test.abc"}).topic("experts") == "test.abc.experts.v1"
