"""The Sigmic docs' Python client (requests, form data, line-by-line SSE parser), run against Concierge.

Written as the docs' Python example is: `requests.post(url, data={...})` sends a urlencoded form and
`autoExecute` is `str(bool)`. Falls back to urllib with the same form encoding when requests is absent.
Prints one JSON object per step on stdout for the test to check.
"""
import json
import os
import sys

API_KEY = os.environ["SIGMIC_API_KEY"]
BASE_URL = os.environ.get("SIGMIC_BASE_URL", "https://api.sigmic.ai")
HEADERS = {"Authorization": f"Bearer {API_KEY}"}

try:
    import requests
except ImportError:  # Debian without python3-requests: the same wire through urllib.
    requests = None
    import urllib.parse
    import urllib.request


def post(path, data=None, json_body=None):
    if requests:
        return requests.post(f"{BASE_URL}{path}", headers=HEADERS, data=data, json=json_body).json()
    if json_body is not None:
        body, content_type = json.dumps(json_body).encode(), "application/json"
    else:
        body, content_type = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
    request = urllib.request.Request(f"{BASE_URL}{path}", data=body, method="POST", headers={**HEADERS, "Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def get(path):
    if requests:
        return requests.get(f"{BASE_URL}{path}", headers=HEADERS)
    return urllib.request.urlopen(urllib.request.Request(f"{BASE_URL}{path}", headers=HEADERS))


def create_task(message, auto_execute=True):
    result = post("/api/v1/tasks", data={"message": message, "autoExecute": str(auto_execute)})
    if not result["success"]:
        raise Exception(f"Failed to create task: {result['error']['message']}")
    return result["data"]["id"]


def create_task_json(message, auto_execute=True):
    result = post("/api/v1/tasks", json_body={"message": message, "autoExecute": auto_execute})
    if not result["success"]:
        raise Exception(f"Failed to create task: {result['error']['message']}")
    return result["data"]["id"]


def iter_lines(response):
    if requests:
        yield from response.iter_lines(decode_unicode=True)
    else:
        for raw in response:
            yield raw.decode("utf-8").rstrip("\n")


def stream_task(task_id, on_event):
    """The docs' parser: `event: ` then `data: ` lines; comments (heartbeats) skipped."""
    response = get(f"/api/v1/tasks/{task_id}/stream") if not requests else requests.get(
        f"{BASE_URL}/api/v1/tasks/{task_id}/stream", headers=HEADERS, stream=True
    )
    event_type = None
    final_response = None
    for line in iter_lines(response):
        if not line or line.startswith(":"):
            continue
        if line.startswith("event: "):
            event_type = line[len("event: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
            on_event(event_type, data)
            if event_type == "done":
                final_response = data["finalResponse"]
    return final_response


def approve(task_id, call_id, outcome="proceed_once"):
    return post(f"/api/v1/tasks/{task_id}/tools/{call_id}/approve", json_body={"outcome": outcome})


def follow_up(task_id, message):
    return post(f"/api/v1/tasks/{task_id}/messages", data={"message": message})


def report(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def main():
    # Approval flow: a form-created task with autoExecute=False (str(False) is "False").
    task_id = create_task("write a report", auto_execute=False)
    report("created", id=task_id, via="form")
    events = []
    approved = []

    def on_event(event_type, data):
        events.append(event_type)
        calls = [data] if event_type == "tool_call" else data.get("toolCalls", []) if event_type == "history_message" else []
        for call in calls:
            if call.get("status") == "awaiting_approval" and call["callId"] not in approved:
                approved.append(call["callId"])
                report("approve", callId=call["callId"], result=approve(task_id, call["callId"]))

    final = stream_task(task_id, on_event)
    report("streamed", events=events, finalResponse=final, approved=approved)

    answer = follow_up(task_id, "list files")
    report("follow_up", result=answer)
    replayed = []

    def on_replayed(event_type, data):
        # The task keeps autoExecute=False: the follow-up's tool call asks too.
        replayed.append([event_type, data])
        on_event(event_type, data)

    final = stream_task(task_id, on_replayed)
    report("follow_up_streamed", finalResponse=final, history=[data for event_type, data in replayed if event_type == "history_message"])

    history = get(f"/api/v1/tasks/{task_id}/history")
    history = history.json() if requests else json.loads(history.read())
    report("history", messages=[[m["role"], m["content"]] for m in history["data"]["messages"]])

    artifacts = get(f"/api/v1/tasks/{task_id}/artifacts")
    artifacts = artifacts.json() if requests else json.loads(artifacts.read())
    report("artifacts", files=[f["path"] for f in artifacts["data"]["files"]])
    download = get(f"/api/v1/tasks/{task_id}/artifacts/download?path=downloads/report.md")
    body = download.text if requests else download.read().decode("utf-8")
    report("download", length=len(body), startsWith=body[:40])

    json_id = create_task_json("hello there")
    seen = []
    final = stream_task(json_id, lambda event_type, data: seen.append(data) if event_type == "history_message" else None)
    # A task that finished before the stream connected arrives as history only (no `done`).
    report("created", id=json_id, via="json", answer=final or seen[-1]["content"])
    report("client", library="requests" if requests else "urllib")


if __name__ == "__main__":
    sys.exit(main())
