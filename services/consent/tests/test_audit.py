import sqlalchemy as sa

from ot_consent.audit import Anchor, read_anchor_lines, unkeyed_hash
from ot_consent.domain import ConsentForm, RequestType
from ot_consent.store import audit_head, audit_log, outbox

from consent_testkit import COORDINATOR, TENANT, person


def fill(handlers, n=5):
    """n entries about request r1 (after the start's own entry 1, the master key version made
    current): sequences 2..n+1."""
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    for i in range(n - 1):
        handlers.data_key(COORDINATOR, "r1", f"read {i}")


def rows(engine):
    with engine.connect() as c:
        return c.execute(sa.select(audit_log).order_by(audit_log.c.sequence)).mappings().all()


def rechain_with_sha256(engine, keep):
    """What someone with write access to the database but without the audit key can do: keep only
    the entries `keep` says, renumber and re-hash them with plain SHA-256, and set the head to match."""
    kept = [r for r in rows(engine) if keep(r)]
    previous = "0" * 64
    with engine.begin() as c:
        c.execute(audit_log.delete())
        for sequence, r in enumerate(kept, 1):
            digest = unkeyed_hash(previous, sequence, r["at"], r["actor"], r["roles"], TENANT, r["action"],
                                  r["request_id"], r["detail"])
            c.execute(audit_log.insert().values(**{**r, "sequence": sequence, "prev_hash": previous, "hash": digest}))
            previous = digest
        c.execute(audit_head.update().values(last_sequence=len(kept), last_hash=previous))
    return len(kept)


def test_an_untouched_chain_verifies(handlers):
    fill(handlers)
    result = handlers.verify_audit(COORDINATOR)
    assert result.intact and result.checked == 6 and result.unkeyed == 0


def test_a_changed_entry_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.update().where(audit_log.c.sequence == 3).values(detail="purpose=nothing to see"))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 3 and "changed" in result.problem


def test_a_removed_entry_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.delete().where(audit_log.c.sequence == 2))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 2 and "missing" in result.problem


def test_a_removed_tail_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.delete().where(audit_log.c.sequence >= 4))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 4


def test_entries_deleted_and_the_chain_rehashed_with_sha256_is_found(handlers, engine):
    fill(handlers)
    left = rechain_with_sha256(engine, keep=lambda r: not r["detail"].startswith("purpose=read 1;"))
    assert left == 5
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 1 and "not keyed" in result.problem


def test_a_chain_rewritten_with_another_key_is_found(handlers, make_handlers, engine):
    from ot_runtime.crypto import new_key
    fill(handlers)
    other = make_handlers(handlers.master_keys, key=new_key())
    assert not other.verify_audit(COORDINATOR).intact
    assert handlers.verify_audit(COORDINATOR).intact


def test_a_cut_tail_with_the_head_reset_is_found_by_the_anchors(handlers, engine):
    fill(handlers, 3)
    first = handlers.anchor_audit()
    assert first == Anchor(4, rows(engine)[-1]["hash"])
    assert handlers.anchor_audit() is None  # nothing new: no second anchor of the same head
    handlers.data_key(COORDINATOR, "r1", "later read")
    second = handlers.anchor_audit()
    assert second.sequence == 5
    handlers.data_key(COORDINATOR, "r1", "read after the last anchor")

    # Cut the trail back to entry 3 and point the head there: the chain alone still verifies.
    with engine.begin() as c:
        c.execute(audit_log.delete().where(audit_log.c.sequence > 3))
        last = c.execute(sa.select(audit_log.c.hash).where(audit_log.c.sequence == 3)).scalar_one()
        c.execute(audit_head.update().values(last_sequence=3, last_hash=last))
    assert handlers.verify_audit(COORDINATOR).intact
    result = handlers.verify_audit(COORDINATOR, [first, second])
    assert not result.intact and result.first_bad_sequence == 4 and "anchor shows entry 5" in result.problem


def test_an_entry_replaced_after_its_anchor_is_found(handlers, engine):
    fill(handlers, 3)
    anchor = handlers.anchor_audit()
    with engine.begin() as c:  # a different, well-formed MAC at the anchored place (as if re-keyed)
        c.execute(audit_log.update().where(audit_log.c.sequence == anchor.sequence).values(hash="f" * 64))
        c.execute(audit_head.update().values(last_hash="f" * 64))
    result = handlers.verify_audit(COORDINATOR, [anchor])
    assert not result.intact and result.first_bad_sequence == anchor.sequence


def test_the_anchor_goes_out_through_the_outbox(handlers, engine):
    from ot.events.v1 import consent_events_pb2
    fill(handlers, 2)
    anchor = handlers.anchor_audit()
    with engine.connect() as c:
        [row] = [r for r in c.execute(sa.select(outbox)) if r.ce_type == "ot.consent.audit.anchored.v1"]
    message = consent_events_pb2.AuditHeadAnchored.FromString(row.payload)
    assert (message.sequence, message.mac, message.tenant) == (anchor.sequence, anchor.mac, TENANT)
    assert row.record_key == "audit-trail"


def test_an_untouched_chain_verifies_with_its_anchors(handlers):
    fill(handlers, 2)
    anchors = [handlers.anchor_audit()]
    handlers.data_key(COORDINATOR, "r1", "more")
    anchors.append(handlers.anchor_audit())
    result = handlers.verify_audit(COORDINATOR, anchors)
    assert result.intact and result.anchors_checked == 2 and result.checked == 4


def test_entries_from_before_the_keyed_trail_are_accepted_only_up_to_the_setting(make_handlers, engine):
    """An area upgraded from the SHA-256 trail: its old entries stay as they are, and
    OT_CONSENT_AUDIT_UNKEYED_UNTIL (outside the database) says how many there were."""
    handlers = make_handlers()
    fill(handlers, 3)  # entries 1-4, keyed
    rechain_with_sha256(engine, keep=lambda r: True)  # as the earlier release wrote them: SHA-256
    upgraded = make_handlers(handlers.master_keys, unkeyed_until=4)
    upgraded.data_key(COORDINATOR, "r1", "after the upgrade")  # entry 5, keyed, its MAC covers entry 4
    result = upgraded.verify_audit(COORDINATOR)
    assert result.intact and result.unkeyed == 4 and result.checked == 5
    assert "not keyed" in make_handlers(handlers.master_keys).verify_audit(COORDINATOR).problem

    # Someone rewrites an old entry and re-hashes the SHA-256 part up to the keyed entry 5.
    with engine.begin() as c:
        c.execute(audit_log.update().where(audit_log.c.sequence == 2).values(detail="type=GROUP_CONSULTATION"))
        previous = "0" * 64
        for r in rows(engine)[:4]:
            digest = unkeyed_hash(previous, r["sequence"], r["at"], r["actor"], r["roles"], TENANT, r["action"],
                                  r["request_id"], "type=GROUP_CONSULTATION" if r["sequence"] == 2 else r["detail"])
            c.execute(audit_log.update().where(audit_log.c.sequence == r["sequence"])
                      .values(prev_hash=previous, hash=digest))
            previous = digest
    result = upgraded.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 5
    with engine.begin() as c:  # and makes entry 5 point at the new entry 4: its MAC no longer matches
        c.execute(audit_log.update().where(audit_log.c.sequence == 5).values(prev_hash=previous))
    result = upgraded.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 5 and "changed" in result.problem


def test_anchor_lines_are_read_from_the_log_and_bad_lines_are_named():
    log_line = ('{"time": "2026-04-01T08:00:00.000+00:00", "level": "INFO", "message": "audit head anchored", '
                f'"sequence": 7, "mac": "{"a" * 64}"}}')
    assert read_anchor_lines([log_line, ""]) == [Anchor(7, "a" * 64)]
    for bad in ('{"sequence": 0, "mac": "' + "a" * 64 + '"}', '{"sequence": 3}', "not json"):
        try:
            read_anchor_lines(['{"sequence": 1, "mac": "' + "b" * 64 + '"}', bad])
        except ValueError as exc:
            assert "line 2" in str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_query_pages_through_the_trail(handlers):
    fill(handlers, 7)
    first, after = handlers.query_audit(COORDINATOR, "r1", "", None, None, 4, 0)
    rest, after2 = handlers.query_audit(COORDINATOR, "r1", "", None, None, 4, after)
    assert [r["sequence"] for r in first + rest] == list(range(2, 9)) and after2 == 0


def test_one_users_entries_can_be_exported(handlers):
    fill(handlers, 4)  # opened by prof-1, then three reads by the coordinator
    mine, _ = handlers.query_audit(COORDINATOR, "", "", None, None, 100, 0, actor="prof-1")
    assert [r["action"] for r in mine] == ["case.opened"]


def test_verify_audit_reads_the_anchors_with_the_services_kafka_settings(tmp_path, keys, monkeypatch):
    """verify-audit --anchors-from-topic connects as the service's own clients do (TLS, SASL)."""
    import kafka

    from ot_runtime.settings import load_settings
    from ot_consent.main import anchors_from_topic
    ca = tmp_path / "kafka-ca.crt"
    ca.write_text("not read in this test")
    settings = load_settings("consent", {
        "OT_TENANT": TENANT, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9093",
        **keys.env(), "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SSL_CA_FILE": str(ca),
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "consent", "KAFKA_SASL_PASSWORD": "pw"})
    seen = {}

    class Recording:
        def __init__(self, **config):
            seen.update(config)

        def partitions_for_topic(self, topic):
            return set()

        def close(self):
            seen["closed"] = True

    monkeypatch.setattr(kafka, "KafkaConsumer", Recording)
    assert anchors_from_topic(settings) == []
    assert seen["security_protocol"] == "SASL_SSL" and seen["ssl_cafile"] == str(ca)
    assert (seen["sasl_mechanism"], seen["sasl_plain_username"]) == ("SCRAM-SHA-512", "consent")
    assert seen["closed"]
