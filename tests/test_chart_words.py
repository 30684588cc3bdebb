"""What the training charts call things, per learner (pure text, no Qt)."""

from engine.core.config import default_config
from gui.charts.chart_words import chart_words


def test_each_family_is_named_for_what_it_measures():
    maml = chart_words(default_config("glyphs", hessian_split_every=10))
    assert maml.pre_name == "before adaptation" and maml.hessian_split
    assert "second-order MAML" in maml.title and "Hessian term every 10 its" in maml.gradient_title
    first = chart_words(default_config("glyphs", algo="fomaml"))
    assert not first.hessian_split and "drops the Hessian term" in first.gradient_title
    snail = chart_words(default_config("glyphs", algo="snail"))
    assert (
        snail.pre_name is None
        and not snail.hessian_split
        and "after reading the support set" in snail.loss_name
    )
    reptile = chart_words(default_config("glyphs", algo="reptile"))
    assert reptile.gradient_name == "θ − mean φ_K" and reptile.gradient_title.startswith(
        "Reptile's direction"
    )
    baseline = chart_words(default_config("glyphs", algo="finetune"))
    assert baseline.loss_name.startswith("pre-training loss") and "new head" in baseline.performance_title
    sine = chart_words(default_config("sinusoid"))
    assert sine.accuracy_name is None and sine.performance_title.startswith("validation MSE")
