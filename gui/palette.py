"""What each colour means, one meaning each, across the app (the colours are ``gui.theme``'s, ANIL's aside).

The Hessian lesson puts the explorer, the live charts and the narrative side by side, so a colour there
must name one thing: the full (second-order) MAML meta-gradient is blue, its first-order part (and
first-order MAML) red-orange, the Hessian term between them a dashed black line, Reptile green, iMAML
purple and ANIL brown.
``COLOUR_WORDS`` are the words a narrative uses for them (tests/test_gui_screens.py holds the Hessian
lesson's narrative to them).
"""

from __future__ import annotations

from gui import theme

MAML = theme.BLUE  # the full, second-order meta-gradient and MAML's own arrow
FIRST_ORDER = theme.VERMILLION  # the first-order part, first-order MAML
HESSIAN_TERM = theme.INK  # the Hessian term, always drawn dashed
HESSIAN_DASHED = True
REPTILE = theme.GREEN
IMAML = theme.REFERENCE  # deep purple: iMAML's implicit gradient (the explorer's fifth arrow)
# brown: ANIL's meta-gradient (the explorer's sixth arrow). Not an Okabe-Ito colour: the explorer already
# uses all eight (its arrows and task paths). Darker and redder than its amber warning text (#8A5A00),
# far darker than first order's red-orange and the orange of task 1's path.
ANIL = "#8B4513"
VALIDATION = theme.GREEN  # validation points in the charts (never beside Reptile's arrow in one plot)

COLOUR_WORDS = {
    "full meta-gradient": "blue",
    "first-order part": "red-orange",
    "Hessian term": "dashed black",
    "Reptile": "green",
    "iMAML": "purple",
    "ANIL": "brown",
}
