from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    """The performance tools: the scale-data generator, the benchmark and the lock
    measurements (the load run is `bin/load`). Never needed to run Accord."""

    name = "accord.performance"
    label = "performance"
