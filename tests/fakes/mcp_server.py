"""An MCP server (the official SDK's) with a repayment-records tool, for the agent tests.

    python tests/fakes/mcp_server.py                    # stdio
    python tests/fakes/mcp_server.py --http PORT        # streamable HTTP at /mcp

Each call is appended, as JSON, to the file named by ``MCP_CALLS_FILE``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer

server = MCPServer("fake-crm")


@server.tool()
def repayment_records(customer_id: str, month: str) -> dict[str, Any]:
    """The customer's statement for one month (YYYY-MM)."""
    if path := os.environ.get("MCP_CALLS_FILE"):
        with open(path, "a", encoding="utf-8") as calls:
            calls.write(json.dumps({"customer_id": customer_id, "month": month}) + "\n")
    return {
        "customer_id": customer_id,
        "month": month,
        "statement": {
            "due_date": f"{month}-25",
            "paid_on": f"{month}-20",
            "status": "paid_on_time",
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
