"""The project's one root exception and its families.

Every library error that crosses a module boundary is wrapped (``raise ... from exc``) with
context such as topic, partition and offset, never a person's identifier.
"""


class EarlylinkError(Exception):
    """Root of every error earlylink raises on purpose."""


class ConfigurationError(EarlylinkError):
    """A setting is missing or inconsistent."""


class StackError(EarlylinkError):
    """A local service (Kafka, PostgreSQL) could not be fetched, started, checked or stopped."""


class ContractError(EarlylinkError):
    """An event does not match the Avro contracts (unknown schema, undecodable bytes)."""


class DeliveryError(EarlylinkError):
    """Kafka did not acknowledge one or more events."""


class SinkError(EarlylinkError):
    """A write to or read from PostgreSQL failed."""


class SinkUnavailable(SinkError):
    """PostgreSQL stayed unreachable past the processors' patience (not the data's fault)."""


class RegistryError(EarlylinkError):
    """The schema registry refused a request, or (``unavailable``) could not be reached."""

    def __init__(self, message: str, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable
