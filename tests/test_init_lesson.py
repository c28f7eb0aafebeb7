"""Lesson 02's figures, widget logic and benchmark, at toy sizes (no MNIST needed)."""

import json
import math

import torch

from hnlab.experiments.init import continual_toy, fig1_target, make_network, train_sgd
from hnlab.viz.init import continual_losses, training_curves
from hnlab.widgets.init import init_figures, init_variance_widget


def test_widget_update_function_shows_xavier_exploding():
    hist, curve, summaries = init_figures(
        torch.randn(40, 20), ("xavier", "hyperfan_in"), "linear", depth=3, width=32, emb_var=0.5, bias=True, emb_dim=8
    )
    assert len(hist.data) == 2 * 4 and len(curve.data) == 2
    xavier, hyperfan = summaries["xavier"]["activation_var"], summaries["hyperfan_in"]["activation_var"]
    assert xavier[2] / xavier[0] > 10 and 0.3 < hyperfan[2] / hyperfan[0] < 3
    assert init_variance_widget(torch.randn(10, 20)).children


def test_sgd_curves_and_continual_toy_figures():
    images = (
        torch.randn(64, 784),
        torch.randint(10, (64,)),
        torch.randn(32, 784),
        torch.randint(10, (32,)),
        "synthetic",
    )
    tnet = fig1_target(width=8, depth=2)
    curve = train_sgd(
        make_network(tnet, "hyperfan_in", emb_dim=4), tnet, images, iters=6, lr=1e-3, eval_every=3, num_eval=32
    )
    assert curve["step"] == [3, 6] and len(curve["test_accuracy"]) == 2
    assert len(training_curves({"hyperfan_in": curve}).data) == 2
    toy = continual_toy(("hyperfan_in",), iters=20)
    assert len(toy["hyperfan_in"]["losses"]) == 3 and len(continual_losses(toy).data) == 1


def test_with_plain_sgd_kaiming_diverges_and_hyperfan_trains():
    """Chang et al. App. B.2: under SGD, Kaiming's generated weights blow the toy up; hyperfan-in trains."""
    toy = continual_toy(("kaiming", "hyperfan_in"), iters=60, lr=1e-2, optimizer="sgd")
    assert not all(math.isfinite(v) for v in toy["kaiming"]["final_mse"])
    hyperfan = toy["hyperfan_in"]
    assert all(math.isfinite(v) for v in hyperfan["final_mse"])
    assert hyperfan["final_mse"][-1] < hyperfan["losses"][0][0]


def test_benchmark_writes_one_entry_per_method(tmp_path, monkeypatch):
    import bench.init_variance as bench

    monkeypatch.setenv("HNLAB_DATA", str(tmp_path))
    out = tmp_path / "init.json"
    bench.main(["--out", str(out), "--width", "16", "--depth", "3", "--emb-dim", "4", "--num-inputs", "20"])
    results = json.loads(out.read_text())
    for method in ("xavier", "kaiming", "hyperfan_in", "hyperfan_out"):
        assert len(results[method]["weight_var_x_fan_in"]) == 4 and len(results[method]["activation_var"]) == 4
    assert results["hyperfan_in"]["weight_var_x_fan_in"][1] < 2 < results["xavier"]["weight_var_x_fan_in"][1]


def test_one_colour_and_name_per_method_in_every_figure_and_power_ticks_on_log_axes():
    from hnlab.viz import method_color
    from hnlab.viz.init import continual_losses, variance_per_layer

    summaries = {m: {"activation_var": [1.0, 2.0], "weight_var_x_fan_in": [1.0, 1.0]} for m in ("kaiming", "xavier")}
    fig = variance_per_layer(summaries, "weight_var_x_fan_in")
    only_xavier = variance_per_layer({"xavier": summaries["xavier"]})
    losses = continual_losses({"xavier": {"losses": [[1.0, 0.5]], "final_mse": [0.5]}})
    colours = {fig.data[1].line.color, only_xavier.data[0].line.color, losses.data[0].line.color}
    assert colours == {method_color("xavier")} and fig.data[0].line.color != fig.data[1].line.color
    assert fig.data[1].name == "Xavier" and "weight_var" not in fig.layout.yaxis.title.text
    assert fig.layout.yaxis.exponentformat == "power" and losses.layout.yaxis.exponentformat == "power"


def test_histograms_have_axis_titles_and_the_init_list_shows_every_choice():
    x = torch.randn(20, 12)
    hist, _, _ = init_figures(x, ("xavier", "hyperfan_in"), depth=2, width=8)
    assert hist.layout.xaxis.title.text == "activation value" and "density" in hist.layout.yaxis.title.text
    box = init_variance_widget(x)
    methods = box.children[0].children[0].children[0]
    assert methods.rows == len(methods.options) and "several" in box.children[0].children[0].children[1].value
