"""Video session signaling: session state, who may signal whom, ICE/TURN, SDP checks.

The hub hands every ``rtc.*`` request to ``signaling.handlers``; answers travel back through the
hub's broker, so participants on different nodes reach each other.
"""
