"""Development tooling, outside the runtime: a throwaway local Synapse (tests, the demo,
benchmarks) and ``cct-bot demo``."""
