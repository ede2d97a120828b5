"""The agent: tools (Python, HTTP), identity binding, intent routing, and orchestration of tool
calls and retrieval side by side, with answers that cite tools like documents."""
