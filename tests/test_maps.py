"""Embedding-space maps (hnlab.maps, hnlab.viz.maps, hnlab.widgets.maps; notebooks/04_embedding_maps.ipynb)."""

import pytest
import torch

from hnlab.data import Task, toy1d_tasks
from hnlab.hnets import HMLP, ChunkedHMLP
from hnlab.maps import (
    EmbeddingPlane,
    all_task_maps,
    cross_scores,
    embedding_map,
    extent_around,
    grid_axes,
    learned_points,
)
from hnlab.targets import MLP
from hnlab.train import score

torch.set_num_threads(1)


def toy_models(emb_dim=2, seed=0):
    torch.manual_seed(seed)
    tnet = MLP(1, (10, 10), 1, "sigmoid")
    return HMLP(tnet.param_shapes, 3, emb_dim=emb_dim, hidden=(10, 10), activation="sigmoid"), tnet


def class_task(n=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen)
    y = (x[:, 0] > 0).long()
    return Task("toy-ce", x, y, x, y, loss="ce")


def loop_map(hnet, tnet, task, xs, ys, plane, head=None):
    """The reference: one hypernet and one target pass per grid point, scored by hnlab.train.score."""
    out = torch.empty(len(ys), len(xs))
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            emb = plane.embed(torch.tensor([[float(xv), float(yv)]]))
            out[i, j] = score(task, tnet(task.x_test, hnet(task_emb=emb)[0], head=head))
    return out


def test_batched_map_equals_point_loop_regression():
    hnet, tnet = toy_models()
    task = toy1d_tasks(num_train=20, num_test=30)[1]
    m = embedding_map(hnet, tnet, task, 1, (-2, 1), (-1, 3), resolution=(5, 4), chunk_size=3, progress=False)
    assert m.values.shape == (4, 5) and m.metric == "mse"
    ref = loop_map(hnet, tnet, task, m.xs, m.ys, EmbeddingPlane.identity(2))
    torch.testing.assert_close(m.values, ref, rtol=1e-5, atol=1e-6)
    assert m.values.std() > 0  # the map really varies over the plane


def test_batched_map_equals_point_loop_classification_chunked_hnet_3d_plane():
    torch.manual_seed(1)
    tnet = MLP(6, (8,), 2, "relu", num_heads=4)
    hnet = ChunkedHMLP(tnet.param_shapes, 4, chunk_size=17, emb_dim=3, chunk_emb_dim=2, hidden=(5,))
    task = class_task()
    plane = EmbeddingPlane.through(*hnet.task_embeddings([0, 2, 3]))
    m = embedding_map(hnet, tnet, task, 2, (-4, 4), (-4, 4), resolution=6, plane=plane, chunk_size=7, progress=False)
    torch.testing.assert_close(m.values, loop_map(hnet, tnet, task, m.xs, m.ys, plane, head=2))
    assert len(set(m.values.flatten().tolist())) > 1


def test_plane_through_three_embeddings_holds_them():
    a, b, c = torch.randn(3, 5)
    plane = EmbeddingPlane.through(a, b, c)
    coords = plane.project(torch.stack([a, b, c]))
    torch.testing.assert_close(plane.embed(coords), torch.stack([a, b, c]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(coords[0], torch.zeros(2))
    assert abs(float(coords[1, 1])) < 1e-5 and float(coords[1, 0]) > 0
    assert plane.distance(torch.stack([a, b, c])).max() < 1e-5
    with pytest.raises(ValueError, match="one line"):
        EmbeddingPlane.through(a, b, 2 * b - a)


def test_learned_points_and_cross_scores_match_the_map_at_the_embeddings():
    hnet, tnet = toy_models()
    tasks = toy1d_tasks(num_train=20, num_test=30)
    points, dist = learned_points(hnet)
    torch.testing.assert_close(points, hnet.task_embeddings([0, 1, 2]).detach())
    assert dist.abs().max() < 1e-6
    S = cross_scores(hnet, tnet, tasks)
    for i, task in enumerate(tasks):
        for j in range(3):
            assert S[i, j].item() == pytest.approx(score(task, tnet(task.x_test, hnet([j])[0])), rel=1e-5)


def test_good_area_counts_cells():
    hnet, tnet = toy_models()
    task = class_task()
    torch.manual_seed(0)
    tnet = MLP(6, (4,), 2, "relu")
    hnet = HMLP(tnet.param_shapes, 2, emb_dim=2, hidden=(4,))
    m = embedding_map(hnet, tnet, task, 0, (0, 4), (0, 2), resolution=(5, 3), progress=False)
    assert m.cell_area == pytest.approx(1.0)
    level = float(m.values.median())
    assert m.good_area(level) == int((m.values >= level).sum())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x_range=(1, 1)), "low < high"),
        (dict(y_range="ab"), "pair"),
        (dict(resolution=1), "resolution"),
        (dict(resolution=(4, 2.5)), "resolution"),
        (dict(task_id=3), "out of range"),
        (dict(plane=EmbeddingPlane.identity(3)), "3-D"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(max_test=0), "max_test"),
    ],
)
def test_bad_map_input_raises_one_clear_error(kwargs, message):
    hnet, tnet = toy_models()
    task = toy1d_tasks(num_train=5, num_test=5)[0]
    args = dict(task_id=0, x_range=(-1, 1), y_range=(-1, 1), resolution=3, progress=False) | kwargs
    with pytest.raises(ValueError, match=message):
        embedding_map(hnet, tnet, task, **args)


def test_grid_axes_and_extent():
    xs, ys = grid_axes((-1, 1), (0, 3), (3, 4))
    assert xs.tolist() == [-1, 0, 1] and ys.tolist() == [0, 1, 2, 3]
    xr, yr = extent_around(torch.tensor([[0.0, 1.0], [2.0, -1.0]]), margin=0.5)
    assert xr == (-0.5, 2.5) and yr == (-1.5, 1.5)


def test_all_task_maps_share_the_grid():
    hnet, tnet = toy_models()
    maps = all_task_maps(
        hnet,
        tnet,
        toy1d_tasks(num_train=5, num_test=10),
        x_range=(-1, 1),
        y_range=(-1, 1),
        resolution=4,
        progress=False,
    )
    assert [m.task_id for m in maps] == [0, 1, 2]
    assert all(torch.equal(m.xs, maps[0].xs) for m in maps)


def test_figures_mark_every_embedding_and_share_one_colour_scale():
    from hnlab.viz.maps import cross_scores_figure, map_figure, maps_grid_figure

    hnet, tnet = toy_models()
    tasks = toy1d_tasks(num_train=5, num_test=10)
    maps = all_task_maps(hnet, tnet, tasks, x_range=(-2, 2), y_range=(-2, 2), resolution=5, progress=False)
    points, _ = learned_points(hnet)
    fig = map_figure(maps[1], points, ["a", "b", "c"])
    markers = fig.data[1]
    assert list(markers.text) == ["a", "b", "c"] and len(markers.x) == 3
    assert markers.marker.size[1] > markers.marker.size[0]  # the mapped task's own embedding stands out
    grid = maps_grid_figure(maps, points, ["a", "b", "c"])
    heatmaps = [d for d in grid.data if d.type == "heatmap"]
    assert len(heatmaps) == 3 and all(h.coloraxis == "coloraxis" for h in heatmaps)
    lo = min(min(min(r) for r in h.z) for h in heatmaps)
    assert grid.layout.coloraxis.cmin == pytest.approx(lo)
    S = cross_scores(hnet, tnet, tasks)
    assert cross_scores_figure(S, [t.name for t in tasks], "mse").data[0].z[2][1] == pytest.approx(float(S[2, 1]))


def test_explorer_view_probes_without_a_kernel():
    from hnlab.widgets.maps import MapExplorer, embedding_map_widget

    hnet, tnet = toy_models()
    tasks = toy1d_tasks(num_train=5, num_test=10)
    ex = MapExplorer(hnet, tnet, tasks)
    e1 = ex.points[1].tolist()
    v = ex.view(1, (-2, 2), (-2, 2), 5, e1)
    assert v.emb_map.values.shape == (5, 5)
    assert v.probe_fig.data[1].y == pytest.approx(tnet(tasks[1].x_test, hnet([1])[0]).flatten().tolist(), rel=1e-5)
    assert v.probe_scores[1] == pytest.approx(score(tasks[1], tnet(tasks[1].x_test, hnet([1])[0])), rel=1e-5)
    moved = ex.view(1, (-2, 2), (-2, 2), 5, (e1[0] + 1.0, e1[1]))
    assert moved.probe_scores[1] != v.probe_scores[1] and moved.emb_map is v.emb_map  # cached map
    assert tuple(moved.map_fig.data[2].x) == (e1[0] + 1.0,)
    with pytest.raises(ValueError, match="out of range"):
        ex.view(3, (-2, 2), (-2, 2), 5, e1)
    box = embedding_map_widget(ex, (-2, 2), (-2, 2), resolution=5)
    task_dropdown = box.children[0].children[0].children[0]
    task_dropdown.value = 2  # an observer recomputes the map for task 2
    assert list(box.children[1].children[0].data[0].x) == v.emb_map.xs.tolist()
    assert box.children[1].children[0].layout.title.text.startswith("task 3")  # task_id 2 is the third task


def test_good_region_area_and_edge():
    from hnlab.maps import EmbeddingMap

    values = torch.tensor([[50.0, 50, 50, 50], [50, 99, 95, 50], [50, 80, 50, 50]])
    m = EmbeddingMap(0, "t", "accuracy", torch.linspace(0, 1.5, 4), torch.linspace(0, 1, 3), values)
    r = m.good_region(own=100.0, fraction=0.9)
    assert r["area"] == pytest.approx(2 * 0.5 * 0.5) and r["grid_area"] == pytest.approx(12 * 0.25)
    assert not r["touches_edge"]
    assert m.good_region(own=100.0, fraction=0.8)["touches_edge"]  # the 80 on the bottom row counts now
