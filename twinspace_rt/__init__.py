"""TwinSpace RT: real-time collaboration server for eTwinning project rooms."""

__version__ = "0.1.0"
