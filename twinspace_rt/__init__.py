"""TwinSpace RT: real-time collaboration server for eTwinning project rooms."""
