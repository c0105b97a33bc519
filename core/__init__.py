"""The bottom layer: what every other package stands on, importing nothing of the project.

``errors`` (the one root exception and its families), ``settings`` (pydantic-settings, secrets
as ``SecretStr``), ``credentials`` (the local services' stored logins), ``kafka`` (client
defaults and topic limits every producer shares), ``vocabulary`` (names shared across stages).
The layers above, in order: ``schemas`` -> ``sink`` -> ``stream_processors`` -> ``producers`` ->
``earlylink`` (the command line, the stack, the demo); see ``docs/architecture.md``.
"""
