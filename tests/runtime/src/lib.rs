//! Unikernels under `src/bin/` that exercise the runtime; `tests/` runs them as processes.
#![no_std]
