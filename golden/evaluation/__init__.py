"""The evaluation side of deja: importers, workload data, the reuse policy, performance and
energy from the cycle model and the event counts, and the reports."""
