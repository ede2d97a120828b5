"""One router per resource: chat, search, collections, and the health probes."""
