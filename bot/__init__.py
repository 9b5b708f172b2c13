"""The runtime: the only package that imports nio and apscheduler."""
