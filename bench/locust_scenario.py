"""bench/scenario.yaml as a Locust FastHttpUser, for the scenario case of bench/bench.py.

Same tasks, weights, request names and bodies as the barrage scenario, with zero wait:

  locust -f bench/locust_scenario.py --headless -u 50 -r 50 -t 10s \
      --host http://127.0.0.1:8080 --only-summary --json-file out
"""

import random

from locust import FastHttpUser, constant, task


class ScenarioUser(FastHttpUser):
    wait_time = constant(0)

    @task(5)
    def browse(self):
        self.client.get(f"/items/{random.randint(1, 1000)}", name="/items/[id]")

    @task(1)
    def buy(self):
        body = {
            "sku": f"SKU-{random.randint(1, 1000)}",
            "quantity": random.randint(1, 5),
            "price": round(random.uniform(1, 100), 2),
        }
        # barrage's `save: { id: '$.id' }` fails the request when the path finds nothing;
        # catch_response does the same here.
        with self.client.post("/json", json=body, catch_response=True) as resp:
            try:
                order_id = resp.json()["id"]
            except (ValueError, KeyError, TypeError) as exc:
                resp.failure(f"no $.id in the response: {exc!r}")
                return
        self.client.get(f"/orders/{order_id}", name="/orders/[id]")
