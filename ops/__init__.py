"""Operating Tremor: health and readiness probes, Prometheus metrics, the process supervisor."""
