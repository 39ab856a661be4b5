"""The REST API of audio-chat (DRF), described by an OpenAPI schema."""
