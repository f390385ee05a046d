"""Drives tracking servers with the official MLflow Python client, side by side, for
`npm run bench -- vs-mlflow` (test/bench/vs-mlflow.bench.ts). Runway's own code: it imports mlflow
as any user script does, from whatever MLflow the user installed, and prints one JSON document.

    python mlflow_client_driver.py --target mlflow=http://127.0.0.1:5222 --target runway=http://127.0.0.1:5000

Every target gets the same workload from the same client in this one process: an experiment of
RUNS runs (3 metrics, 2 params, 2 tags each, PARAM_HITS of them with lr = 0.01), then rounds in
which each operation is timed against every target in turn (the order alternates per round, so a
change in the machine's load falls on all targets alike). Samples are wall-clock milliseconds of
the client call, as a user script sees them.
"""

import argparse
import copy
import json
import os
import platform
import sys
import time
import uuid

import mlflow
import requests
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

RUNS = 200
PARAM_HITS = 48
LOG_METRIC = "log_metric"
LOG_BATCH = "log_batch (1,000 metrics)"


def searches(client, experiment):
    """The timed searches: name, the client call, and how many runs it must find."""
    return [
        (
            "search_runs: top 10 by a metric",
            lambda: client.search_runs([experiment], order_by=["metrics.rank DESC"], max_results=10),
            10,
        ),
        (
            f"search_runs: filtered ({PARAM_HITS} hits)",
            lambda: client.search_runs([experiment], filter_string="params.lr = '0.01'"),
            PARAM_HITS,
        ),
        (f"search_runs: all {RUNS}", lambda: client.search_runs([experiment], max_results=1000), RUNS),
    ]


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", action="append", required=True, help="name=url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--log-metric-calls", type=int, default=60, help="per round and target")
    parser.add_argument("--log-batch-calls", type=int, default=4, help="per round and target")
    parser.add_argument("--search-calls", type=int, default=6, help="per round and target")
    parser.add_argument("--replay", help="url of a server that answers every call with what PUT /__replay set")
    return parser.parse_args()


def populate(client, name):
    """The search workload: RUNS runs, PARAM_HITS with lr = 0.01, rank 0..RUNS-1."""
    experiment_id = client.create_experiment(name)
    for i in range(RUNS):
        run = client.create_run(experiment_id, start_time=1_000_000 + i, run_name=f"r{i}")
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("rank", float(i), 1, 0),
                Metric("acc", (i % 97) / 97, 1, 0),
                Metric("loss", 1 - (i % 89) / 89, 1, 0),
            ],
            params=[Param("lr", "0.01" if i % 25 < 6 else "0.1"), Param("depth", str(i % 8))],
            tags=[RunTag("team", "bench"), RunTag("probe", "yes" if i % 20 == 0 else "no")],
        )
    return experiment_id


def timed(samples, call):
    started = time.perf_counter()
    result = call()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def timed_calls(client, run_id, experiment, args):
    """The operations replayed for the split of each call: how many calls, and the call on `client`."""
    now = int(time.time() * 1000)
    batch = [Metric(f"m{i % 10}", 0.5, now, 10**6 + i // 10) for i in range(1000)]
    return {
        LOG_METRIC: (args.log_metric_calls, lambda: client.log_metric(run_id, "loss", 0.5, step=10**6)),
        LOG_BATCH: (args.log_batch_calls, lambda: client.log_batch(run_id, metrics=batch)),
        **{name: (args.search_calls, call) for name, call, _ in searches(client, experiment)},
    }


def recorded_answer(operation, call):
    """The one HTTP answer `call` gets from its server, recorded inside `requests`."""
    real = requests.Session.request
    answers = []

    def recording(self, *a, **kw):
        response = real(self, *a, **kw)
        answers.append(response)
        return response

    requests.Session.request = recording
    try:
        call()
    finally:
        requests.Session.request = real
    if len(answers) != 1:
        raise SystemExit(f"{operation} made {len(answers)} requests, expected 1")
    return answers[0]


def client_alone_samples(target, args):
    """The client's own share of each call: the same call, answered at once with the answer this
    server gave it last (recorded, then replayed inside `requests`), so no server and no network is
    timed. What a call takes beyond this is the server's and the loopback's."""
    calls = timed_calls(target["client"], target["run_id"], target["experiment_id"], args)
    real = requests.Session.request
    samples = {}
    for operation, (count, call) in calls.items():
        answer = recorded_answer(operation, call)
        requests.Session.request = lambda self, *a, **kw: copy.copy(answer)
        try:
            for _ in range(count * args.rounds):
                timed(samples.setdefault(operation, []), call)
        finally:
            requests.Session.request = real
    return samples


def floor_samples(target, args, replay):
    """The floor under any server on this machine: the same call, sent over the loopback to a Node
    `http` server that answers at once with the answer this server gave it last (`replay`, run by
    the bench). What a call takes beyond this is the server's own work."""
    calls = timed_calls(target["client"], target["run_id"], target["experiment_id"], args)
    replayed = timed_calls(MlflowClient(tracking_uri=replay), target["run_id"], target["experiment_id"], args)
    control = requests.Session()
    samples = {}
    for operation, (count, call) in calls.items():
        answer = recorded_answer(operation, call)
        control.put(
            f"{replay}/__replay",
            json={"status": answer.status_code, "body": answer.content.decode("utf-8")},
        ).raise_for_status()
        replayed_call = replayed[operation][1]
        for _ in range(3):  # the connection, as a running script has it
            replayed_call()
        for _ in range(count * args.rounds):
            timed(samples.setdefault(operation, []), replayed_call)
    return samples


def main():
    args = parse_args()
    targets = {}
    for spec in args.target:
        name, url = spec.split("=", 1)
        client = MlflowClient(tracking_uri=url)
        suffix = uuid.uuid4().hex[:8]
        experiment_id = populate(client, f"vs-mlflow-search-{suffix}")
        write_experiment = client.create_experiment(f"vs-mlflow-write-{suffix}")
        run_id = client.create_run(write_experiment, start_time=int(time.time() * 1000)).info.run_id
        session = requests.Session()
        targets[name] = {
            "url": url,
            "client": client,
            "experiment_id": experiment_id,
            "run_id": run_id,
            "session": session,
            "samples": {},
            "step": 0,
            "batch": 0,
        }

    def sample(target, operation):
        return target["samples"].setdefault(operation, [])

    def check(operation, runs, expected):
        if len(runs) != expected:
            raise SystemExit(f"{operation} found {len(runs)} runs, expected {expected}")

    names = list(targets)
    for round_number in range(args.rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            target = targets[name]
            client, run_id, experiment = target["client"], target["run_id"], target["experiment_id"]
            url, session = target["url"], target["session"]
            for _ in range(3):  # the connection and the server's caches, as a running script has them
                session.get(f"{url}/health").raise_for_status()
            for _ in range(args.log_metric_calls):
                timed(sample(target, "health (raw GET)"), lambda: session.get(f"{url}/health").raise_for_status())
            for _ in range(args.log_metric_calls):
                target["step"] += 1
                step = target["step"]
                timed(
                    sample(target, LOG_METRIC),
                    lambda: client.log_metric(run_id, "loss", 1 / step, step=step),
                )
            for _ in range(args.log_metric_calls):
                target["step"] += 1
                body = {
                    "run_id": run_id,
                    "key": "raw",
                    "value": 0.5,
                    "timestamp": int(time.time() * 1000),
                    "step": target["step"],
                }
                timed(
                    sample(target, "log-metric (raw POST)"),
                    lambda: session.post(f"{url}/api/2.0/mlflow/runs/log-metric", json=body).raise_for_status(),
                )
            for _ in range(args.log_batch_calls):
                target["batch"] += 1
                now = int(time.time() * 1000)
                metrics = [
                    Metric(f"m{i % 10}", (i * 7919 % 1000) / 1000, now, target["batch"] * 100 + i // 10)
                    for i in range(1000)
                ]
                timed(sample(target, LOG_BATCH), lambda: client.log_batch(run_id, metrics=metrics))
            for operation, call, expected in searches(client, experiment):
                for _ in range(args.search_calls):
                    check(operation, timed(sample(target, operation), call), expected)
            print(f"round {round_number + 1}/{args.rounds}: {name} done", file=sys.stderr, flush=True)

    client_alone = {name: client_alone_samples(target, args) for name, target in targets.items()}
    floor = {name: floor_samples(target, args, args.replay) for name, target in targets.items()} if args.replay else {}

    json.dump(
        {
            "client": f"mlflow {mlflow.__version__} (Python {platform.python_version()})",
            "samples": {name: target["samples"] for name, target in targets.items()},
            "client_alone": client_alone,
            "floor": floor,
            "pid": os.getpid(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
