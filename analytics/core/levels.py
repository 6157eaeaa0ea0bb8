"""The detector's levels, defined once: the core computes them, models store them, pages name them."""

NORMAL, POSSIBLE, PROBLEMS = 0, 1, 2
LEVEL_NAMES = {NORMAL: "normal", POSSIBLE: "possible", PROBLEMS: "problems"}
