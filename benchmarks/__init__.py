"""Speed and memory measurements of the trainers; results are recorded in benchmarks/README.md."""
