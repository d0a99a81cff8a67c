"""Shared documents: the y-websocket endpoint, the loaded documents, their log and versions."""
