"""Defaults of training and promotion that the CLI shows in its help (kept free of pandas and MLflow)."""

DEFAULT_HOLDOUT_HOURS = 6.0  # kept out of training by `powercast train`, judged on by `powercast promote`
DEFAULT_MARGIN = 0.02  # relative MAE improvement a challenger needs over the champion
DEFAULT_HOURS = DEFAULT_HOLDOUT_HOURS  # the promotion holdout: the hours training left out
