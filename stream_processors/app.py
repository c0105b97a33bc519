"""The faust application shared by earlylink's agents, configured from settings.

Pitfalls of faust-streaming 0.15 handled here: agents run with concurrency 1 (with more it can
commit past an in-flight message), exactly-once processing is not used (our sink is idempotent
and stores offsets itself), and batches come from ``stream.take_events`` (with offsets).
"""

from __future__ import annotations

import ssl

import faust

from earlylink.settings import KafkaSettings, Settings


def broker_credentials(kafka: KafkaSettings) -> faust.types.auth.CredentialsT | None:
    """The faust (aiokafka) side of the TLS/SASL settings the confluent-kafka clients use."""
    protocol = kafka.security_protocol.upper()
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        cafile = str(kafka.ssl_ca_location) if kafka.ssl_ca_location else None
        context = ssl.create_default_context(cafile=cafile)
    if protocol.startswith("SASL"):
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context else None


WEB_PORT_OFFSET = {"pseudonymise": 0, "resolve": 1}


def make_app(settings: Settings, app_id: str, stage: str) -> faust.App:
    """A faust app talking to the configured Kafka, with raw bytes in and out.

    Each stage serves its web endpoints on its own port (base port + the stage's offset)."""
    kafka = settings.kafka
    return faust.App(
        app_id,
        broker=f"kafka://{kafka.bootstrap}",
        broker_credentials=broker_credentials(kafka),
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        autodiscover=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        topic_partitions=kafka.partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=10.0,  # a killed worker's partitions move on within seconds
        broker_heartbeat_interval=2.0,
        producer_acks=-1,
        web_enabled=True,
        web_port=settings.processor.web_port + WEB_PORT_OFFSET[stage],
        web_bind="127.0.0.1",
    )


def run_worker(app: faust.App, loglevel: str = "info") -> None:
    """Run the app's worker in this process until it is stopped (SIGTERM/SIGINT)."""
    from faust.worker import Worker

    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
