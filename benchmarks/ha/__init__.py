"""The high-availability harness: real replicas behind a real load balancer, under load and chaos.

``python -m benchmarks.ha chaos`` (``make ha-test``) starts an embedded PostgreSQL, a Redis of its
own, the fake OpenAI-compatible LLM, 3 ``kotaemon serve`` replicas and 2 ``kotaemon worker``
processes behind HAProxy, sends a bounded mix of requests, kills and restarts parts of the system
on a schedule, and fails when too many requests failed or a document was lost or duplicated.
``python -m benchmarks.ha steady`` (``make ha-bench``) measures requests per second with 1 and 3
replicas instead.

Modules: :mod:`.processes` (the services), :mod:`.haproxy` (the balancer's configuration),
:mod:`.load` (the load generator), :mod:`.outcomes` (how a response is judged),
:mod:`.documents` (uploads and their check), :mod:`.report` (figures, gates, tables),
:mod:`.chaos` and :mod:`.steady` (the two modes).
"""
