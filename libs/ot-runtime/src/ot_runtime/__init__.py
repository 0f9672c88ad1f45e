"""Shared runtime of the OT platform services.

One copy of each cross-cutting piece (settings, gRPC server bootstrap, authentication, Kafka,
transactional outbox, inbox, CloudEvents, logging, telemetry). A service that needs a variant
extends these rather than copying them.
"""
