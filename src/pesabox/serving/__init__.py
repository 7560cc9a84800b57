"""`pesabox serve`: each served environment's Platform and app, on its listeners.

environments.py  the Platforms and ASGI apps of the served environments; their databases
listeners.py     which listeners (environment, scheme, port, TLS mode); binding sockets
tls.py           the platform CA's material, loaded once; SSL contexts built from it
tls_protocol.py  uvicorn's httptools protocol with the ASGI TLS extension
runner.py        one uvicorn Server per listener in one event loop; worker processes
"""
