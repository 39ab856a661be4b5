"""Tests for the matching source package."""
