"""The component model and the shared schema. Imports nothing else of kotaemon."""
