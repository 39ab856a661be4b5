"""The audio-chat test suite; its layout mirrors the source tree."""
