"""metahall server: the aiohttp app, Socket.IO wiring, HTTP API, database, auth and CLI."""
