"""Shared test helpers: real servers and clients, rooms with members, waits, services."""
