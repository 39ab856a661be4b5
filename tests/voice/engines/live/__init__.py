"""Tests of the matching voice package."""
