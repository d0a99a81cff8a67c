"""The WebSocket core that the hub and the Yjs endpoint build on: the handshake, the per-socket
budget, the frame-once transport and the named close codes."""
