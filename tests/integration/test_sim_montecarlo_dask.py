"""Reproducibility: the same seed gives the same Monte Carlo result in-process and on a Dask LocalCluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lodeline.sim.compile import network_from_spec
from lodeline.sim.montecarlo import ChunkTask, make_task, run_montecarlo, sample_events
from lodeline.sim.scenario import scenario_from_text

WORKED = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml"


@pytest.fixture(scope="module")
def task() -> ChunkTask:
    sc = scenario_from_text(WORKED.read_text(encoding="utf-8"), str(WORKED)).model_copy(
        update={"horizon_months": 6}
    )
    assert sc.network is not None
    net = network_from_spec(sc.network, sc.mineral, sc.alliance_members(), "mc")
    built, _ = make_task(net, sc, {"JPN": 90.0})
    return built


@pytest.fixture(scope="module", params=[False, True], ids=["threads", "processes"])
def client(request: pytest.FixtureRequest) -> Iterator[object]:
    """A LocalCluster with 2 in-process workers, then with 2 worker processes (real pickling)."""
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=request.param, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_same_seed_same_result_in_process(task: ChunkTask) -> None:
    a = run_montecarlo(task, 5_000, seed=11, chunk_size=1_000)
    b = run_montecarlo(task, 5_000, seed=11, chunk_size=1_000)
    c = run_montecarlo(task, 5_000, seed=12, chunk_size=1_000)
    np.testing.assert_array_equal(a.unmet, b.unmet)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.unmet, c.unmet)
    assert a.unmet.sum() > 0  # the sweep does produce shortfalls, so equality is not vacuous


def test_same_seed_same_result_on_dask(task: ChunkTask, client: object) -> None:
    local = run_montecarlo(task, 4_500, seed=3, chunk_size=1_000)
    remote = run_montecarlo(task, 4_500, seed=3, chunk_size=1_000, executor=client)  # type: ignore[arg-type]
    np.testing.assert_array_equal(local.unmet, remote.unmet)
    np.testing.assert_array_equal(local.demand, remote.demand)
    assert local.summary() == remote.summary()


def test_copula_marginals_and_correlation() -> None:
    """Each marginal frequency ≈ p_i; the latent correlation ρ makes joint disruptions more frequent."""
    rng = np.random.default_rng(5)
    probs = np.array([0.1, 0.1])
    d, _ = sample_events(rng, probs, 0.6, 200_000, 12)
    np.testing.assert_allclose(d.mean(axis=0), probs, atol=0.004)
    joint = (d[:, 0] * d[:, 1]).mean()
    assert joint > 2 * 0.1 * 0.1  # independent would be 0.01
    d0, _ = sample_events(np.random.default_rng(5), probs, 0.0, 200_000, 12)
    assert abs((d0[:, 0] * d0[:, 1]).mean() - 0.01) < 0.002


def test_risk_metrics_by_hand(task: ChunkTask) -> None:
    """VaR95 is the 95th percentile of the sampled shortfall; CVaR95 the mean of the tail beyond it."""
    r = run_montecarlo(task, 2_000, seed=1, chunk_size=500)
    rows = {x["country"]: x for x in r.summary()}
    usa = r.unmet[:, r.consumers.index("USA")]
    var = np.quantile(usa, 0.95)
    assert rows["USA"]["var95_shortfall_t"] == pytest.approx(var)
    assert rows["USA"]["cvar95_shortfall_t"] == pytest.approx(usa[usa >= var].mean())
    assert rows["USA"]["mean_shortfall_t"] == pytest.approx(usa.mean())
    pct = 100 * usa / r.demand[:, r.consumers.index("USA")]
    assert rows["USA"]["p_target_breached"] == pytest.approx((pct > 5).mean())


def test_cli_dask_scheduler_gives_the_in_process_numbers() -> None:
    """`lodeline sim montecarlo --dask-scheduler ADDRESS` on a LocalCluster equals the in-process run."""
    import json

    from typer.testing import CliRunner

    from lodeline.cli.main import app

    distributed = pytest.importorskip("dask.distributed")
    args = [
        "sim",
        "montecarlo",
        str(WORKED),
        "--samples",
        "3000",
        "--seed",
        "9",
        "--chunk-size",
        "500",
        "-f",
        "json",
    ]
    runner = CliRunner()
    local = runner.invoke(app, args)
    assert local.exit_code == 0, local.output
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        remote = runner.invoke(app, [*args, "--dask-scheduler", cluster.scheduler_address])
    assert remote.exit_code == 0, remote.output
    assert json.loads(local.stdout) == json.loads(remote.stdout)
