"""A small CRM-like HTTP service for the demo: the repayment records of a few fictional Harbor
Bank customers. kotaemon calls it as a tool (see ../agent.yaml).

    python examples/crm/server.py --port 8100      # CRM_TOKEN (default demo-crm-token)

``GET /customers/{customer_id}/repayments?month=YYYY-MM`` answers with that month's statement.
Statements exist for the twelve months before today, so the demo works on any date.
"""

from __future__ import annotations

import argparse
import hmac
import os
from datetime import date, timedelta
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Query

#: name, and how each customer pays: on time, inside the 3-day grace period, or late.
CUSTOMERS = {
    "C-1001": ("张伟", "on_time"),
    "C-1002": ("Li Na", "grace"),
    "C-1003": ("王芳", "late"),
    "C-0042": ("Zhao Lei", "on_time"),
}
AMOUNT_DUE = {"C-1001": 3200.00, "C-1002": 1850.50, "C-1003": 4120.00, "C-0042": 990.00}


def statement(customer_id: str, month: str) -> dict:
    year, number = (int(part) for part in month.split("-"))
    due = date(year, number, 25)
    amount = AMOUNT_DUE[customer_id]
    habit = CUSTOMERS[customer_id][1]
    if habit == "on_time":
        paid_on, paid, status = due - timedelta(days=5), amount, "paid_on_time"
    elif habit == "grace":
        paid_on, paid, status = due + timedelta(days=2), amount, "paid_in_grace"
    else:
        paid_on, paid, status = None, 0.0, "overdue"
    return {
        "due_date": due.isoformat(),
        "amount_due": amount,
        "minimum_due": round(amount * 0.1, 2),
        "paid_amount": paid,
        "paid_on": paid_on.isoformat() if paid_on else None,
        "status": status,
        "overdue": status == "overdue",
    }


def create_app(token: str) -> FastAPI:
    app = FastAPI(title="Harbor Bank CRM (demo)")

    @app.get("/customers/{customer_id}/repayments", operation_id="repayment_records")
    def repayments(
        customer_id: str,
        month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
        authorization: Annotated[str, Header()] = "",
    ) -> dict:
        if not hmac.compare_digest(authorization, f"Bearer {token}"):
            raise HTTPException(401, "unauthorized")
        if customer_id not in CUSTOMERS:
            raise HTTPException(404, "no such customer")
        today = date.today().replace(day=1)
        first = date(int(month[:4]), int(month[5:]), 1)
        if not (today - timedelta(days=366) <= first < today):
            raise HTTPException(404, "no statement for that month")
        return {
            "customer_id": customer_id,
            "name": CUSTOMERS[customer_id][0],
            "month": month,
            "statement": statement(customer_id, month),
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    token = os.environ.get("CRM_TOKEN", "demo-crm-token")
    uvicorn.run(create_app(token), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
