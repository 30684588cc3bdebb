"""The views built on first use, each in its own dock: the names presets use, and how to build them.

Qt-free on purpose (``gui.shell.presets`` reads the names without Qt). A view is a QWidget class in its
own module, built with no arguments; the window imports it only when the view is first shown. A
view that follows the window's run defines ``set_run(session, data_dir)``: the window calls it when
the view is built and whenever the run changes (the session's public reads only: history, config,
latest trace, checkpoint requests), so no view reaches into the window.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LazyView:
    key: str  # the name in preset files ("views": [...]) and in window_parts.named_docks
    title: str  # the dock's title
    menu_text: str  # the View menu's entry
    module: str
    class_name: str
    size: tuple[int, int] = (1400, 860)  # when floating
    share: float = 0.62  # of the window's width when a preset docks it


LAZY_VIEWS: tuple[LazyView, ...] = (
    LazyView(
        "second_order",
        "Second order: do we need the second derivative?",
        "Second order explorer",
        "gui.lessons.second_order.view",
        "SecondOrderView",
        share=0.66,
    ),
    LazyView(
        "draw_your_own",
        "Draw your own characters",
        "Draw your own characters",
        "gui.lessons.draw_your_own.view",
        "DrawYourOwnView",
        size=(1150, 900),
        share=0.72,
    ),
    LazyView(
        "you_vs_learner",
        "You vs the learner (Omniglot, 1-shot)",
        "You vs the learner",
        "gui.lessons.you_vs_learner.view",
        "YouVsLearnerView",
        size=(1050, 860),
        share=0.66,
    ),
    LazyView(
        "sine_playground",
        "Sinusoid playground: MAML vs joint training",
        "Sinusoid playground",
        "gui.lessons.sine_playground.view",
        "SinePlaygroundView",
        size=(1300, 820),
        share=0.68,
    ),
    LazyView(
        "recipe",
        "The general recipe, step by step",
        "The recipe, step by step",
        "gui.lessons.recipe.view",
        "RecipeView",
        size=(1300, 900),
        share=0.66,
    ),
    LazyView(
        "inner_loop_stepper",
        "Inner-loop stepper: one task, three starting points",
        "Inner-loop stepper",
        "gui.lessons.stepper.view",
        "InnerLoopStepperView",
        size=(1400, 900),
        share=0.74,
    ),
    LazyView(
        "two_families",
        "Black box vs optimization: one task, two learners",
        "Black box vs optimization",
        "gui.lessons.two_families.view",
        "TwoFamiliesView",
        size=(1200, 860),
        share=0.74,
    ),
    LazyView(
        "data_efficiency",
        "How much meta-training data?",
        "How much meta-training data?",
        "gui.lessons.data_efficiency.view",
        "DataEfficiencyView",
        size=(1100, 800),
        share=0.62,
    ),
)

LAZY_VIEW_KEYS = tuple(v.key for v in LAZY_VIEWS)
BY_KEY = {v.key: v for v in LAZY_VIEWS}
